"""The read-only and tenant-filter checks of `migguard query`, without a database."""

from __future__ import annotations

import pytest

from migguard.core.errors import GateRefused, InputError
from migguard.query.check import Relation, analyse
from migguard.query.command import check_timeout, load_playbooks, parse_params, placeholders

BOOKINGS = Relation("public.bookings", "r", has_tenant=True, rls_active=True)
USERS = Relation("public.users", "r", has_tenant=True, rls_active=False)
TENANTS = Relation("public.tenants", "r", has_tenant=False, rls_active=False)
REPORT = Relation("public.report", "v", has_tenant=False, rls_active=False, security_invoker=True,
                  tenant_bases=(("public.bookings", True),))
CATALOG = {'"bookings"': BOOKINGS, '"users"': USERS, '"tenants"': TENANTS, '"public"."bookings"': BOOKINGS,
           '"report"': REPORT}


def problems(sql: str, tenant: str | None = None) -> list[str]:
    return analyse(sql, "tenant_id").tenant_problems(CATALOG, tenant, "reader")


@pytest.mark.parametrize("sql", [
    "SELECT * FROM bookings WHERE tenant_id = 'a'",
    "SELECT * FROM bookings b WHERE b.tenant_id::text = $1 AND b.id > 3",
    "SELECT * FROM public.bookings WHERE 'a' = bookings.tenant_id",
    "SELECT * FROM bookings WHERE tenant_id IN ('a', 'b')",
    "SELECT * FROM bookings WHERE tenant_id = ANY($1)",
    "SELECT * FROM bookings WHERE tenant_id = current_setting('app.tenant_id')::uuid",
    "SELECT * FROM bookings WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'acme')",
    "SELECT * FROM bookings WHERE tenant_id IN (SELECT id FROM tenants WHERE slug = 'acme')",
    "SELECT * FROM bookings b WHERE b.tenant_id = 'a' OR b.tenant_id = 'b'",
    "SELECT * FROM bookings b JOIN users u ON u.tenant_id = b.tenant_id WHERE b.tenant_id = 'a'",
    "SELECT * FROM bookings b JOIN users u USING (tenant_id) WHERE tenant_id = 'a'",
    "SELECT * FROM bookings b LEFT JOIN users u ON u.tenant_id = b.tenant_id AND u.id = 1 WHERE b.tenant_id = 'a'",
    "SELECT * FROM bookings b WHERE b.tenant_id = 'a' AND EXISTS "
    "(SELECT 1 FROM users u WHERE u.tenant_id = b.tenant_id)",
    "WITH bookings AS (SELECT * FROM bookings WHERE tenant_id = 'a') SELECT * FROM bookings",
    "SELECT count(*) FROM tenants",
    "SELECT 1",
    "EXPLAIN SELECT * FROM bookings",
    "SHOW work_mem",
])
def test_filtered_or_tenant_free_queries_pass(sql):
    assert problems(sql) == []


@pytest.mark.parametrize("sql, table", [
    ("SELECT * FROM bookings", "public.bookings"),
    ("SELECT * FROM bookings WHERE tenant_id <> 'a'", "public.bookings"),
    ("SELECT * FROM bookings WHERE tenant_id = 'a' OR id > 0", "public.bookings"),
    ("SELECT * FROM bookings b WHERE b.tenant_id = b.tenant_id", "public.bookings"),
    ("SELECT * FROM bookings b, users u WHERE b.tenant_id = 'a'", "public.users"),
    ("SELECT * FROM bookings b LEFT JOIN users u ON u.tenant_id = 'a'", "public.bookings"),
    ("SELECT * FROM bookings UNION ALL SELECT * FROM bookings WHERE tenant_id = 'a'", "public.bookings"),
    ("WITH x AS (SELECT * FROM bookings) SELECT * FROM x WHERE tenant_id = 'a'", "public.bookings"),
    ("SELECT (SELECT count(*) FROM users) FROM bookings WHERE tenant_id = 'a'", "public.users"),
    ("SELECT * FROM report", "public.report"),
])
def test_unfiltered_tenant_relations_are_named(sql, table):
    found = problems(sql)
    assert found and table in " ".join(found)


def test_tenant_option_needs_row_level_security_that_applies():
    assert problems("SELECT * FROM bookings", tenant="a") == []  # RLS active
    assert problems("SELECT * FROM report", tenant="a") == []  # security_invoker view over RLS tables
    [users] = problems("SELECT * FROM users", tenant="a")
    assert "row-level security is not active on public.users for role reader" in users


@pytest.mark.parametrize("sql, reason", [
    ("UPDATE bookings SET x = 1", "UPDATE"),
    ("DELETE FROM bookings", "DELETE"),
    ("INSERT INTO bookings DEFAULT VALUES", "INSERT"),
    ("MERGE INTO bookings b USING users u ON u.id = b.id WHEN MATCHED THEN DELETE", "MERGE"),
    ("TRUNCATE bookings", "TRUNCATE"),
    ("COPY bookings TO STDOUT", "COPY"),
    ("SET statement_timeout = 0", "SET"),
    ("CALL do_things()", "CALL"),
    ("WITH d AS (UPDATE bookings SET x = 1 RETURNING *) SELECT * FROM d", "data-modifying WITH"),
    ("SELECT * FROM (SELECT * FROM bookings FOR SHARE) s", "FOR SHARE"),
    ("SELECT * FROM bookings FOR NO KEY UPDATE", "FOR NO KEY UPDATE"),
    ("SELECT * INTO copy FROM bookings", "INTO"),
    ("SELECT nextval('s')", "nextval()"),
    ("SELECT pg_catalog.setval('s', 1)", "setval()"),
    ("SELECT set_config('statement_timeout', '0', true)", "set_config()"),
    ("SELECT lo_unlink(1)", "lo_unlink()"),
    ("SELECT pg_terminate_backend(1)", "pg_terminate_backend()"),
    ("SELECT pg_cancel_backend(1)", "pg_cancel_backend()"),
    ("SELECT * FROM dblink('x', 'delete from t') AS t(a int)", "dblink()"),
    ("SELECT pg_advisory_lock(1)", "pg_advisory_lock()"),
    ("SELECT query_to_xml('select * from bookings', true, true, '')", "query_to_xml()"),
    ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN ANALYZE"),
    ("EXPLAIN (ANALYZE, BUFFERS) SELECT 1", "EXPLAIN ANALYZE"),
    ("EXPLAIN DELETE FROM bookings", "EXPLAIN of a DELETE"),
    ("SELECT 1; SELECT 2", "2 statements"),
])
def test_writes_are_refused_by_the_parser(sql, reason):
    with pytest.raises(GateRefused, match="query refused") as refused:
        analyse(sql, "tenant_id")
    assert reason in refused.value.message


@pytest.mark.parametrize("sql", ["", "-- nothing\n", "SELEC 1", "SELECT * FROM"])
def test_empty_or_invalid_sql_is_a_usage_error(sql):
    with pytest.raises(InputError):
        analyse(sql, "tenant_id")


def test_allowed_read_forms():
    for sql in ("VALUES (1)", "TABLE tenants", "EXPLAIN (ANALYZE false) SELECT 1", "SELECT pg_sleep(0)",
                "SELECT 'nextval(1)' AS text_not_a_call", "SELECT 1; -- trailing comment"):
        analyse(sql, "tenant_id")


def test_placeholders_and_params():
    assert placeholders("SELECT %(a)s, %(b)s, %(a)s WHERE x LIKE 'a%%'") == ["a", "b", "a"]
    for bad in ("SELECT %s", "SELECT 'a%'", "SELECT %(a)d", "SELECT %(1x)s"):
        with pytest.raises(ValueError):
            placeholders(bad)
    assert parse_params(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    for bad in (["a"], ["=1"], ["a=1", "a=2"]):
        with pytest.raises(InputError):
            parse_params(bad)


def test_timeouts():
    assert check_timeout("5s") == "5s" and check_timeout("250") == "250ms" and check_timeout("2 min") == "2min"
    for bad in ("0", "0s", "-1s", "5 seconds", "", "1s; DROP TABLE x"):
        with pytest.raises(InputError):
            check_timeout(bad)


@pytest.mark.parametrize("text, message", [
    ("playbooks: [", "invalid YAML"),
    ("- a\n", "expected a mapping"),
    ("playbooks:\n  - name: a\n    description: d\n    sql: SELECT 1\n    extra: 1\n", "playbooks[0].extra: unknown key"),
    ("playbooks:\n  - {name: a, description: d, sql: 'SELECT %(x)s'}\n", "undeclared parameter(s): x"),
    ("playbooks:\n  - {name: a, description: d, sql: 'SELECT 1', params: [x]}\n", "not used in the SQL: x"),
    ("playbooks:\n  - {name: a, description: d, sql: 'SELECT 1'}\n  - {name: a, description: e, sql: 'SELECT 2'}\n",
     "defined twice"),
    ("playbooks:\n  - {name: a, sql: 'SELECT 1'}\n", "playbooks[0].description"),
])
def test_bad_playbook_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "playbooks.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match="playbooks.yaml") as error:
        load_playbooks(path)
    assert message in error.value.message
