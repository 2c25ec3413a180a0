"""Qualified names travel as (schema, name) parts on the live path (issue 10, item 3), and the
live path's own loose ends: `apply --plan` checks production is not the shadow, and a GRANT
TRUNCATE to an application role is refused live. Through the real CLI on a real PostgreSQL,
asserting production's history, catalog, rows and audit log afterwards.

Production is a fresh database on the session cluster; the shadow is the same cluster. The
production URL carries a sentinel password that must never appear in any output or file.
"""

import json

import pytest

from tests.apply.livekit import (
    NOTES,
    assert_clean,
    audit_entries,
    ensure_app_user,
    make_project,
    migguard,
    query,
    with_password,
    write,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e, pytest.mark.all_majors]

CONFIG = '[tool.migguard]\nmigrations = "db/migrations"\nlock_timeout = "2s"\npg_version = 15\n'
HISTORY = '"Mig.Hist"."Schema Migrations"'


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    ensure_app_user(pg_cluster.url())
    return make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url())


def test_a_history_table_with_dots_and_spaces_in_its_names_works_through_apply_status_and_rollback(project, pg):
    (project.root / "migguard.toml").write_text(CONFIG + f"history_table = '{HISTORY}'\n")
    write(project, "0001_items.sql", "SET lock_timeout = '2s';\nCREATE TABLE items (id int PRIMARY KEY, v text);\n")
    # statement by statement: its progress is kept beside the history, in the same quoted schema
    write(project, "0002_index.sql", "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY items_v ON public.items (v);\n")
    applied = migguard(project, "apply", "--confirm-live")
    assert applied.returncode == 0, applied.stderr

    history = query(pg, 'SELECT version FROM "Mig.Hist"."Schema Migrations" ORDER BY version')
    assert history == [("0001",), ("0002",)]
    assert query(pg, 'SELECT count(*) FROM "Mig.Hist"."Schema Migrations_progress"') == [(0,)]
    # nothing was created under a name cut at a dot, nor under the default
    schemas = {r[0] for r in query(pg, "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'")}
    assert schemas == {"public", "information_schema", "Mig.Hist"}
    assert query(pg, "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'items'::regclass "
                     "AND NOT indisprimary") == [("items_v",)]

    status = migguard(project, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["applied"] == ["0001", "0002"] and report["pending"] == [] and report["drift"] == []

    back = migguard(project, "rollback", "--confirm-live")
    assert back.returncode == 0, back.stderr
    assert query(pg, 'SELECT version FROM "Mig.Hist"."Schema Migrations" ORDER BY version') == [("0001",)]
    assert query(pg, "SELECT count(*) FROM pg_index WHERE indrelid = 'items'::regclass AND NOT indisprimary") == [(0,)]
    after = json.loads(migguard(project, "status", "--format", "json").stdout)
    assert after["pending"] == ["0002"] and after["drift"] == []
    assert [(e["command"], e["result"]) for e in audit_entries(project, verified=True) if e["result"] != "started"] == [
        ("apply", "applied"), ("rollback", "rolled-back")]
    assert_clean(project, applied, status, back)


def test_a_dotted_table_dropped_and_a_dotted_column_dropped_come_back_with_their_data(project, pg):
    write(project, "0001_api.sql", 'SET lock_timeout = \'2s\';\nCREATE SCHEMA "api.v1";\n'
          'CREATE TABLE "api.v1"."t.x" (id int PRIMARY KEY, "b.c" text, keep int);\n'
          'CREATE TABLE "api.v1"."T.y" (id int PRIMARY KEY, note text NOT NULL);\n')
    applied = migguard(project, "apply", "--confirm-live")
    assert applied.returncode == 0, applied.stderr
    query(pg, 'INSERT INTO "api.v1"."t.x" VALUES (1, \'one\', 10), (2, NULL, 20), (3, \'three\', 30)')
    query(pg, 'INSERT INTO "api.v1"."T.y" VALUES (7, \'seven\'), (8, \'eight\')')
    write(project, "0002_drop.sql", "SET lock_timeout = '2s';\n"
          "-- migguard:ignore ban-drop-column -- test\n"
          'ALTER TABLE "api.v1"."t.x" DROP COLUMN "b.c";\n'
          "-- migguard:ignore ban-drop-table -- test\n"
          'DROP TABLE "api.v1"."T.y";\n')

    # the plan counts what the drops destroy (the pre-checks find the dotted tables)
    plan = migguard(project, "plan", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    destroyed = {f["message"] for f in json.loads(plan.stdout)["findings"] if f["rule"] == "precheck-destroyed-rows"}
    assert len(destroyed) == 2, json.loads(plan.stdout)["findings"]

    # a dump of only the affected tables: the patterns match the dotted, mixed-case names exactly
    dropped = migguard(project, "apply", "--confirm-live", "--allow-destructive", "--backup", "affected")
    assert dropped.returncode == 0, dropped.stderr
    assert query(pg, "SELECT attname FROM pg_attribute WHERE attrelid = '\"api.v1\".\"t.x\"'::regclass "
                     "AND attnum > 0 AND NOT attisdropped ORDER BY attnum") == [("id",), ("keep",)]
    assert query(pg, "SELECT to_regclass('\"api.v1\".\"T.y\"')") == [(None,)]
    (header,) = [t for t in (p.read_text() for p in (project.root / ".migguard" / "backups").glob("*.rollback.sql"))
                 if "(migrations 0002)" in t]
    assert "--schema=api.v1 --table=t.x " in header and "--schema=api.v1 --table=T.y " in header

    back = migguard(project, "rollback", "--confirm-live")  # with the data, from apply's backup
    assert back.returncode == 0, back.stderr
    assert query(pg, 'SELECT id, "b.c", keep FROM "api.v1"."t.x" ORDER BY id') == [
        (1, "one", 10), (2, None, 20), (3, "three", 30)]
    assert query(pg, 'SELECT id, note FROM "api.v1"."T.y" ORDER BY id') == [(7, "seven"), (8, "eight")]
    assert query(pg, "SELECT version FROM migguard.schema_migrations ORDER BY version") == [("0001",)]
    (entry,) = [e for e in audit_entries(project, verified=True)
                if e["command"] == "rollback" and e["result"] == "rolled-back"]
    assert sorted(entry["details"]["restored"]) == ["api.v1.T.y (2 rows)", "api.v1.t.x.b.c (3 rows)"]
    assert_clean(project, applied, plan, dropped, back)


def test_apply_of_a_saved_plan_refuses_production_on_the_shadow(project, pg, pg_cluster):
    write(project, "0001_items.sql", "SET lock_timeout = '2s';\nCREATE TABLE names_probe (id int PRIMARY KEY);\n")
    planned = migguard(project, "plan")
    assert planned.returncode == 0, planned.stderr
    (saved,) = (project.root / ".migguard" / "plans").iterdir()
    shadow = pg_cluster.url()  # the shadow's own database, empty like the production the plan was made on

    refused = migguard(project, "apply", "--plan", str(saved), "--confirm-live", env={"PG_PROD_URL": shadow})
    assert refused.returncode == 2, refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert "PG_PROD_URL points at migguard's shadow" in line and "Traceback" not in refused.stderr
    assert query(shadow, "SELECT to_regclass('public.names_probe'), to_regclass('migguard.schema_migrations')") == [
        (None, None)]

    # against real production, the same saved plan applies
    applied = migguard(project, "apply", "--plan", str(saved), "--confirm-live")
    assert applied.returncode == 0, applied.stderr
    assert query(pg, "SELECT version FROM migguard.schema_migrations") == [("0001",)]


def test_granting_truncate_on_a_tenant_table_to_an_app_role_is_refused_live(project, pg):
    write(project, "0001_notes.sql", NOTES)
    applied = migguard(project, "apply", "--confirm-live")
    assert applied.returncode == 0, applied.stderr
    write(project, "0002_truncate.sql", "SET lock_timeout = '2s';\nGRANT TRUNCATE ON notes TO app_user;\n")

    plan = migguard(project, "plan", "--format", "json")
    assert plan.returncode == 1, plan.stderr
    assert "rls-truncate-granted" in {f["rule"] for f in json.loads(plan.stdout)["findings"]}

    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1, refused.stderr
    assert "rls-truncate-granted" in refused.stderr and "Traceback" not in refused.stderr
    assert query(pg, "SELECT has_table_privilege('app_user', 'notes', 'TRUNCATE')") == [(False,)]
    assert query(pg, "SELECT version FROM migguard.schema_migrations ORDER BY version") == [("0001",)]
    assert [e["result"] for e in audit_entries(project, verified=True) if e["command"] == "apply"][-1] == "refused"
    assert_clean(project, applied, plan, refused)
