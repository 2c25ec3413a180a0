"""Generated SQL against hostile names and config values, through the real CLI, on a real PostgreSQL.

Each test plays the attacker of issue 10 (a column whose name ends a comment, a config value
that closes its literal, a schema and a table with dots in their names) and then reads
production's state: the victim's rows, the catalog, the history table.
"""

import json
from pathlib import Path

import pglast
import psycopg
import pytest

from migguard.pg.introspect import introspect
from tests.apply.livekit import make_project, migguard, scalar, write

pytestmark = [pytest.mark.pg, pytest.mark.e2e, pytest.mark.all_majors]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "2s"
pg_version = 15
"""
# A column name that ends a `-- …` comment and puts a statement on the next line.
EVIL = "c\nDELETE FROM public.victim;\n--"
EVIL_SQL = '"' + EVIL.replace('"', '""') + '"'
SCHEMA = """SET lock_timeout = '2s';
CREATE TABLE victim (id int PRIMARY KEY, note text);
CREATE TABLE t (id int PRIMARY KEY, """ + EVIL_SQL + """ text);
"""
DROP_EVIL = ("SET lock_timeout = '2s';\n-- migguard:ignore ban-drop-column -- the test drops the hostile column\n"
             f"ALTER TABLE t DROP COLUMN {EVIL_SQL};\n")


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG, pg, pg_cluster.url())


def statements_of(path: Path) -> list[str]:
    """The kinds of statement PostgreSQL's own parser finds in a generated script (comments are none)."""
    return [type(raw.stmt).__name__ for raw in pglast.parse_sql(path.read_text())]


def plan_of(project, version: str) -> dict:
    """The plan.json written for the apply of pending migration `version` (one plan directory per apply)."""
    plans = [json.loads(p.read_text()) for p in (project.root / ".migguard" / "plans").rglob("plan.json")]
    (plan,) = [p for p in plans if p["pending"] == [version]]
    return plan


def test_a_column_name_cannot_end_a_comment_of_the_rollback(project, pg):
    write(project, "0001_tables.sql", SCHEMA)
    first = migguard(project, "apply", "--confirm-live")
    assert first.returncode == 0, first.stderr
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO victim SELECT g, 'row ' || g FROM generate_series(1, 7) g")
        conn.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 3) g")
    write(project, "0002_drop.sql", DROP_EVIL)
    second = migguard(project, "apply", "--confirm-live", "--allow-destructive")
    assert second.returncode == 0, second.stderr
    assert EVIL not in {c for c in introspect(pg).tables["public.t"].columns}

    # Every SQL script migguard wrote (the plan's forward, rollback and per-migration rollbacks,
    # the rollback beside the backup) parses to DDL only: no DELETE hides behind a comment.
    scripts = [p for p in (project.root / ".migguard").rglob("*.sql")]
    assert any(p.parent.name == "rollback" for p in scripts) and any(p.name.endswith(".rollback.sql") for p in scripts)
    for script in scripts:
        assert "DeleteStmt" not in statements_of(script), f"{script} runs a DELETE"
    undo = [p for p in scripts if p.name == "0002.sql" or "(migrations 0002)" in p.read_text()]
    assert len(undo) >= 2 and all(statements_of(p) == ["AlterTableStmt"] for p in undo)  # re-add the column: only that
    (step,) = plan_of(project, "0002")["migrations"]
    dropped = step["changes"]
    assert [c["path"] for c in dropped if c["kind"] == "drop column"] == [["public", "t", EVIL]]

    back = migguard(project, "rollback", "--confirm-live", "--no-restore-data")
    assert back.returncode == 0, back.stderr
    assert scalar(pg, "SELECT count(*) FROM victim") == 7  # the rows survive the rollback
    assert EVIL in introspect(pg).tables["public.t"].columns  # and the column is back
    assert scalar(pg, "SELECT array_agg(version ORDER BY version) FROM migguard.schema_migrations") == ["0001"]


@pytest.mark.parametrize("key, value", [
    ("lock_timeout", "2s'; DELETE FROM moods; SELECT '"),
    ("statement_timeout", "0"),
    ("history_table", "migguard.h; DELETE FROM moods"),
    ("tenant_setting", "app.tenant'); DELETE FROM moods; --"),
])
def test_a_config_value_that_is_not_its_type_is_refused_before_anything_runs(project, pg, key, value):
    write(project, "0001_moods.sql", "SET lock_timeout = '2s';\nCREATE TABLE moods (id int PRIMARY KEY);\n")
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO moods SELECT generate_series(1, 5)")
    audit = project.root / ".migguard" / "audit.jsonl"
    entries = audit.read_text().count("\n")
    (project.root / "migguard.toml").write_text(CONFIG.replace('lock_timeout = "2s"\n', "")
                                              + f"{key} = {json.dumps(value)}\n")
    write(project, "0002_more.sql", "SET lock_timeout = '2s';\nCREATE TABLE more (id int);\n")
    for command in (("apply", "--confirm-live"), ("rollback", "--confirm-live")):
        result = migguard(project, *command)
        assert result.returncode == 2, result.stderr
        assert f"invalid value for '{key}'" in result.stderr and "migguard.toml" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert scalar(pg, "SELECT count(*) FROM moods") == 5
    assert scalar(pg, "SELECT to_regclass('public.more')") is None
    assert scalar(pg, "SELECT array_agg(version) FROM migguard.schema_migrations") == ["0001"]
    assert audit.read_text().count("\n") == entries  # nothing ran, so nothing was audited


def test_a_schema_and_a_table_with_dots_round_trip_through_plan_apply_and_rollback(project, pg):
    write(project, "0001_api.sql", 'SET lock_timeout = \'2s\';\nCREATE SCHEMA "api.v1";\n'
          'CREATE TABLE "api.v1"."t.x" (id int PRIMARY KEY, "b.c" text NOT NULL DEFAULT \'\', keep int);\n')
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    before = introspect(pg).without_schemas("migguard")
    assert set(before.tables) == {'"api.v1"."t.x"'} and before.tables['"api.v1"."t.x"'].schema_name == "api.v1"
    write(project, "0002_drop.sql", "SET lock_timeout = '2s';\n-- migguard:ignore ban-drop-column -- test\n"
          'ALTER TABLE "api.v1"."t.x" DROP COLUMN "b.c";\n')
    applied = migguard(project, "apply", "--confirm-live", "--allow-destructive")
    assert applied.returncode == 0, applied.stderr
    assert set(introspect(pg).tables['"api.v1"."t.x"'].columns) == {"id", "keep"}
    (change,) = [c for c in plan_of(project, "0002")["changes"] if c["kind"] == "drop column"]
    assert change["path"] == ["api.v1", "t.x", "b.c"] and change["object"] == '"api.v1"."t.x"."b.c"'
    assert 'ALTER TABLE "api.v1"."t.x" ADD COLUMN "b.c" text' in change["reverse"]

    back = migguard(project, "rollback", "--confirm-live", "--no-restore-data")
    assert back.returncode == 0, back.stderr
    assert introspect(pg).without_schemas("migguard").comparable() == before.comparable()
    status = migguard(project, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["drift"] == [] and json.loads(status.stdout)["pending"] == ["0002"]
