"""Online-safe generated SQL (issue 12, item 3): `diff(..., online=True)` writes CREATE/DROP INDEX
CONCURRENTLY, foreign keys and CHECKs NOT VALID then VALIDATE, SET NOT NULL through a validated
CHECK; the scripts pass migguard's own lint, run as migguard's runner runs them (a file with
CONCURRENTLY statement by statement, any other in one transaction) on a table holding rows, and
give the target schema exactly, and back. The plan lints the rollback it generates, and `diff --sql`
is online by default.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from migguard.core.config import load_config
from migguard.core.findings import Severity
from migguard.core.sources import Migration
from migguard.lint.context import LintSettings
from migguard.lint.engine import RulePolicy, lint_text
from migguard.pg.history import AppliedMigration, ensure_table, record
from migguard.pg.introspect import introspect
from migguard.pg.shadow import apply_migration, with_database
from migguard.plan.command import PlanOptions, run_plan
from migguard.schema.diff import (
    HAZARD_ACCESS_EXCLUSIVE,
    HAZARD_NOT_TRANSACTIONAL,
    SHARE_UPDATE_EXCLUSIVE,
    diff,
    migration_scripts,
    reverse_script,
)
from tests.clirun import run_cli

pytestmark = pytest.mark.pg

BEFORE = """
CREATE TABLE parents (id int PRIMARY KEY);
CREATE TABLE items (id int PRIMARY KEY, parent_id int, email text, qty int, note text);
CREATE INDEX items_note_idx ON items (note);
INSERT INTO parents SELECT generate_series(1, 3);
INSERT INTO items SELECT g, 1 + g % 3, 'e' || g, g, 'n' FROM generate_series(1, 50) g;
"""
AFTER = """
CREATE TABLE parents (id int PRIMARY KEY);
CREATE TABLE items (id int PRIMARY KEY, parent_id int REFERENCES parents, email text NOT NULL,
                    qty int CONSTRAINT items_qty_positive CHECK (qty > 0), note text);
CREATE INDEX items_email_idx ON items (email);
CREATE TABLE fresh (id int PRIMARY KEY, parent_id int REFERENCES parents);
CREATE INDEX fresh_parent_idx ON fresh (parent_id);
"""
# No index change: nothing runs CONCURRENTLY, so the validations need a file of their own.
AFTER_NO_INDEX = """
CREATE TABLE parents (id int PRIMARY KEY);
CREATE TABLE items (id int PRIMARY KEY, parent_id int REFERENCES parents, email text NOT NULL, qty int, note text);
CREATE INDEX items_note_idx ON items (note);
"""

SETTINGS = LintSettings(pg_version=15)
POLICY = RulePolicy.build()


def _database(pg: str, name: str, text: str) -> str:
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(pg, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(text)
    return url


def _run_as_migrations(url: str, scripts: list[str], directory: Path) -> None:
    """Each script as a migration file, run the way migguard runs one (`apply_migration`)."""
    for number, text in enumerate(scripts):
        path = directory / f"{number:04d}_generated.sql"
        path.write_text(text)
        with psycopg.connect(url, autocommit=True) as conn:
            apply_migration(conn, Migration(f"{number:04d}", "generated", path))


def _errors(name: str, text: str) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in lint_text(name, text, SETTINGS, POLICY) if f.severity == Severity.ERROR]


@pytest.fixture
def models(pg, tmp_path):
    def build(after: str):
        a = _database(pg, f"{psycopg.conninfo.conninfo_to_dict(pg)['dbname']}_a", BEFORE)
        b = _database(pg, f"{psycopg.conninfo.conninfo_to_dict(pg)['dbname']}_b", after)
        return a, introspect(a), introspect(b)
    return build


def test_online_forms_pass_the_lint_and_round_trip_on_a_table_with_rows(models, tmp_path):
    url, before, after = models(AFTER)
    changes = diff(before, after, online=True)
    scripts = migration_scripts(changes)
    # DROP INDEX CONCURRENTLY | the table changes | CREATE INDEX CONCURRENTLY | foreign keys | validations
    assert ["CONCURRENTLY" in s for s in scripts] == [True, False, True, False, False]
    assert all(("CONCURRENTLY" in s) == (s.count(";") == s.count("CONCURRENTLY")) for s in scripts)
    assert all("VALIDATE" in line for line in scripts[-1].splitlines() if "items_qty" in line or "fkey" in line)
    forward = "".join(scripts)
    assert "CREATE INDEX CONCURRENTLY items_email_idx ON public.items" in forward
    assert "DROP INDEX CONCURRENTLY public.items_note_idx;" in forward
    assert "ADD CONSTRAINT items_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.parents(id) NOT VALID;" in forward
    assert "ALTER TABLE public.items VALIDATE CONSTRAINT items_parent_id_fkey;" in forward
    assert "ADD CONSTRAINT items_qty_positive CHECK ((qty > 0)) NOT VALID;" in forward
    assert "ALTER TABLE public.items ADD CONSTRAINT items_email_not_null CHECK (email IS NOT NULL) NOT VALID;" in scripts[1]
    assert ("ALTER TABLE public.items VALIDATE CONSTRAINT items_email_not_null;\n"
            "ALTER TABLE public.items ALTER COLUMN email SET NOT NULL;\n"
            "ALTER TABLE public.items DROP CONSTRAINT items_email_not_null;") in scripts[-1]
    # a table created by the same script has no rows and no readers: plain forms there
    assert "CREATE INDEX fresh_parent_idx ON public.fresh" in forward
    assert "fresh_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.parents(id) NOT VALID;" in forward  # locks parents
    assert [_errors(f"{n}.sql", text) for n, text in enumerate(scripts)] == [[]] * len(scripts)

    by_kind = {(c.kind, c.object): c for c in changes}
    create = by_kind[("create index", "public.items_email_idx")]
    assert create.concurrently and create.lock == SHARE_UPDATE_EXCLUSIVE and HAZARD_NOT_TRANSACTIONAL in create.hazards
    assert by_kind[("validate constraint", "public.items.items_parent_id_fkey")].validation
    assert HAZARD_ACCESS_EXCLUSIVE in by_kind[("add not null check", "public.items.email")].hazards

    rollback, irreversible = reverse_script(changes)
    assert irreversible == [] and "CREATE INDEX CONCURRENTLY items_note_idx" in rollback
    _run_as_migrations(url, scripts, tmp_path)
    assert diff(introspect(url), after) == []
    _run_as_migrations(url, [rollback], tmp_path)
    assert diff(introspect(url), before) == []


def test_validations_get_a_migration_file_of_their_own_without_concurrently(models, tmp_path):
    url, before, after = models(AFTER_NO_INDEX)
    changes = diff(before, after, online=True)
    first, second = migration_scripts(changes)
    assert "NOT VALID" in first and "VALIDATE" not in first
    assert second.count("VALIDATE CONSTRAINT") == 2 and "SET NOT NULL" in second
    single = first + second
    assert "ban-validate-same-transaction" in {rule for rule, _ in _errors("one.sql", single)}  # why it is cut
    assert _errors("first.sql", first) == [] and _errors("second.sql", second) == []
    _run_as_migrations(url, [first, second], tmp_path)
    assert diff(introspect(url), after) == []


def test_plain_forms_stay_the_default_of_diff_and_are_what_the_lint_refuses(models):
    _, before, after = models(AFTER)
    plain = migration_scripts(diff(before, after))
    assert len(plain) == 1 and "CONCURRENTLY" not in plain[0] and "NOT VALID" not in plain[0]
    assert {"require-concurrent-index-creation", "constraint-missing-not-valid", "require-check-for-set-not-null"} \
        <= {rule for rule, _ in _errors("plain.sql", plain[0])}


def test_online_leaves_partitioned_tables_to_the_plain_forms(pg, tmp_path):
    """PostgreSQL refuses CONCURRENTLY and NOT VALID foreign keys on a partitioned table."""
    head = ("CREATE TABLE ref (id int PRIMARY KEY);\n"
            "CREATE TABLE m (id int, r int, v int) PARTITION BY RANGE (id);\n"
            "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (100);\n")
    name = psycopg.conninfo.conninfo_to_dict(pg)["dbname"]
    a = _database(pg, f"{name}_a", head)
    b = _database(pg, f"{name}_b", head + "CREATE INDEX m_v_idx ON m (v);\nALTER TABLE m ADD FOREIGN KEY (r) REFERENCES ref;\n")
    before, after = introspect(a), introspect(b)
    scripts = migration_scripts(diff(before, after, online=True))
    assert len(scripts) == 1 and "CONCURRENTLY" not in scripts[0] and "NOT VALID" not in scripts[0]
    _run_as_migrations(a, scripts, tmp_path)
    assert diff(introspect(a), after) == []


@pytest.mark.e2e
def test_diff_sql_is_online_by_default(tmp_path, models):
    _, before, after = models(AFTER_NO_INDEX)
    (tmp_path / "a.json").write_text(before.to_json())
    (tmp_path / "b.json").write_text(after.to_json())

    def run(*args):
        return run_cli(["diff", "a.json", "b.json", *args], cwd=tmp_path)
    online, plain, described = run("--sql"), run("--sql", "--no-online"), run("--format", "json")
    assert online.returncode == plain.returncode == described.returncode == 0, online.stderr + plain.stderr
    assert "-- migguard: migration file 2 of 2" in online.stdout and "NOT VALID" in online.stdout
    assert "NOT VALID" not in plain.stdout and "migration file" not in plain.stdout
    changes = json.loads(described.stdout)["changes"]
    assert any(c["validation"] and c["kind"] == "validate constraint" for c in changes)
    assert all(isinstance(c["hazards"], list) for c in changes)


@pytest.mark.e2e
def test_the_plan_reports_the_locks_of_its_rollback(tmp_path, pg, pg_cluster):
    """The migration drops an index CONCURRENTLY; the rollback (one transaction, SPEC 6) builds it
    again with a plain CREATE INDEX: a generated-sql-unsafe warning at its line of rollback.sql."""
    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\npg_version = 15\n')
    (migrations / "0001_items.sql").write_text("SET lock_timeout = '2s';\nCREATE TABLE items (id int PRIMARY KEY, note text);\n"
                                               "CREATE INDEX items_note_idx ON items (note);\n")
    (migrations / "0002_drop_index.sql").write_text("SET lock_timeout = '2s';\nDROP INDEX CONCURRENTLY items_note_idx;\n")
    first = Migration("0001", "items", migrations / "0001_items.sql")
    with psycopg.connect(pg, autocommit=True) as conn:
        apply_migration(conn, first)
        with conn.transaction():
            ensure_table(conn, "migguard.schema_migrations")
            record(conn, "migguard.schema_migrations", AppliedMigration(
                "0001", "items", first.checksum(), None, "test", datetime.now(UTC), 1))
    report, plan = run_plan(PlanOptions(prod_url=pg, shadow_url=pg_cluster.url(), write=False),
                            load_config(str(tmp_path / "migguard.toml")))
    assert plan.rollback_verified
    unsafe = [f for f in report.findings if f.rule == "generated-sql-unsafe"]
    assert [(f.path, f.severity) for f in unsafe] == [("rollback.sql", Severity.WARNING)]
    assert "require-concurrent-index-creation" in unsafe[0].message
    assert plan.rollback_sql.splitlines()[unsafe[0].line - 1].startswith("CREATE INDEX items_note_idx")
