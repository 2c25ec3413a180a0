"""The shared facts of `LintContext` (rules/context.py) that several rules read."""

from __future__ import annotations

import pytest

from migguard.lint.context import LintContext, LintSettings
from migguard.sql.parse import parse_sql
from migguard.sql.shapes import CreateView, Other
from tests.lint.lintkit import assert_flags


def _context(sql: str, **settings: object) -> LintContext:
    return LintContext("migration.sql", parse_sql(sql), LintSettings(**settings))


# --- created_tables -------------------------------------------------------------------------------------


def test_created_tables_include_create_table_as_and_materialized_views():
    context = _context(
        "CREATE TEMP TABLE scratch ON COMMIT DROP AS SELECT * FROM accounts;\n"
        "CREATE TABLE copy AS SELECT * FROM accounts;\n"
        "CREATE MATERIALIZED VIEW totals AS SELECT 1 AS a;\n"
        "CREATE MATERIALIZED VIEW IF NOT EXISTS billing.sums AS SELECT 1 AS a WITH NO DATA;\n"
        "CREATE TABLE notes (id bigint);"
    )
    # Both parsers' shapes are covered: PostgreSQL's for the first and fourth, sqlglot's for the others.
    assert isinstance(context.statements[0].command, Other)
    assert context.statements[0].command.node_type == "CreateTableAsStmt"
    assert isinstance(context.statements[3].command, CreateView) and context.statements[3].command.materialized
    assert context.created_tables == {"scratch": 0, "copy": 1, "totals": 2, "billing.sums": 3, "notes": 4}
    assert context.is_new_table("public.scratch", 1) and not context.is_new_table("scratch", 0)


def test_a_table_created_as_select_is_a_new_object_for_the_rules():
    sql = "CREATE TEMP TABLE scratch ON COMMIT DROP AS SELECT * FROM accounts;\nDELETE FROM scratch;"
    assert_flags(sql, "ban-delete-without-where", severity="info")
    sql = "CREATE MATERIALIZED VIEW IF NOT EXISTS totals AS SELECT 1 AS a WITH NO DATA;\nVACUUM FULL totals;"
    assert_flags(sql, "ban-vacuum-full", severity="info")


def test_if_not_exists_does_not_make_a_table_new_for_the_destructive_rules():
    """It may create nothing and leave production's table, with its rows, in place."""
    sql = "CREATE TABLE IF NOT EXISTS victim (id bigint);\nTRUNCATE victim;"
    assert_flags(sql, "ban-truncate", severity="error")
    assert_flags(sql.replace(" IF NOT EXISTS", ""), "ban-truncate", severity="info")
    assert LintContext("m.sql", parse_sql(sql), surely_new=True).created_tables == {}
    assert _context(sql).created_tables == {"victim": 0}


# --- lock_timeout -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", [
    "SET lock_timeout = '2s';", "SET LOCAL lock_timeout TO '2s';", "set Lock_Timeout = 1000;",
    "SELECT set_config('lock_timeout', '2s', true);",
])
def test_a_lock_timeout_is_in_force_after_it_is_set(setting):
    context = _context(f"ALTER TABLE a ADD COLUMN b int;\n{setting}\nALTER TABLE a ADD COLUMN c int;")
    assert context.lock_timeout_in_force == (False, False, True)
    assert context.lock_timeout_before(2) and not context.lock_timeout_before(0)


@pytest.mark.parametrize("switch_off", [
    "SET lock_timeout = 0;", "SET lock_timeout TO '0';", "SET lock_timeout = '0s';", "SET lock_timeout TO DEFAULT;",
    "SET LOCAL lock_timeout = DEFAULT;", "RESET lock_timeout;", "SELECT set_config('lock_timeout', '0', false);",
    "SELECT pg_catalog.set_config('lock_timeout', '0', false);",
])
def test_zero_default_and_reset_switch_the_lock_timeout_off(switch_off):
    context = _context(f"{switch_off}\nALTER TABLE a ADD COLUMN b int;")
    assert not context.lock_timeout_before(1)
    context = _context(f"SET lock_timeout = '2s';\n{switch_off}\nALTER TABLE a ADD COLUMN b int;")
    assert context.lock_timeout_in_force == (False, True, False)
    context = _context(f"{switch_off}\nSET lock_timeout = '2s';\nALTER TABLE a ADD COLUMN b int;")
    assert context.lock_timeout_before(2)


def test_other_settings_leave_the_lock_timeout_alone():
    context = _context("SET lock_timeout = '2s';\nSET statement_timeout = 0;\nRESET ALL;\n"
                       "ALTER TABLE a ADD COLUMN b int;")
    assert context.lock_timeout_in_force == (False, True, True, True)


# --- tenant_tables ----------------------------------------------------------------------------------------


def test_tenant_tables_cover_partitions_create_table_as_and_add_column_from_either_parser():
    context = _context(
        "CREATE TABLE invoices (id bigint, tenant_id uuid NOT NULL) PARTITION BY LIST (tenant_id);\n"
        "CREATE TABLE invoices_a PARTITION OF invoices FOR VALUES IN ('00000000-0000-0000-0000-000000000000');\n"
        "CREATE TABLE invoice_copy AS SELECT id, tenant_id FROM invoices;\n"
        "ALTER TABLE notes ADD COLUMN tenant_id uuid;\n"
        "ALTER TABLE files ADD COLUMN tenant_id uuid, ALTER CONSTRAINT files_fk DEFERRABLE;\n"
        "CREATE TEMP TABLE scratch (tenant_id uuid);\n"
        "CREATE TABLE audit (id bigint);"
    )
    tables = context.tenant_tables
    assert {name: table.how for name, table in tables.items()} == {
        "invoices": "create", "notes": "add_column", "invoice_copy": "create", "invoices_a": "partition",
        "files": "add_column"}
    assert tables["invoices_a"].parent == "invoices" and tables["invoices_a"].type_name == "uuid"
    assert tables["files"].statement.index == 4 and tables["files"].type_name == "uuid"


def test_tenant_tables_follow_the_configured_column():
    context = _context("CREATE TABLE a (tenant_id uuid);\nCREATE TABLE b (org_id uuid);", tenant_column="org_id")
    assert list(context.tenant_tables) == ["b"]
