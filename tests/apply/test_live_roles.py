"""Production owned by a non-superuser LOGIN role, with FORCE ROW LEVEL SECURITY on a tenant table
holding rows, migguard connecting as that role (issue 11 item 5), through the real CLI: without
BYPASSRLS the preflight names the missing privilege and nothing is written; with it, apply, plan
and status run clean: no owner drift, no internal error on the unset tenant setting.
"""

import subprocess

import psycopg
import pytest

from migguard.pg.tools import client_for, server_major
from tests.apply.livekit import (
    applied_versions,
    audit_entries,
    columns,
    make_project,
    migguard,
    scalar,
    write,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "2s"
pg_version = 15
app_roles = []
"""

ITEMS = """SET lock_timeout = '2s';
CREATE TABLE items (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    body text,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON items
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
"""

NOTE = """SET lock_timeout = '2s';
ALTER TABLE items ADD COLUMN note text;
"""

BODY_REQUIRED = """SET lock_timeout = '2s';
ALTER TABLE items ALTER COLUMN body SET NOT NULL;
"""

TENANT = "11111111-1111-1111-1111-111111111111"


@pytest.fixture
def admin(pg, pg_cluster):
    """Production's superuser URL; its database is owned by app_owner (LOGIN, no superuser)."""
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE app_owner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute("ALTER ROLE app_owner NOBYPASSRLS")
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO app_owner', current_database()); END $$")
    return pg


@pytest.fixture
def project(tmp_path, admin, pg_cluster):
    """migguard connects to production as app_owner; items is created by the first apply, as app_owner."""
    project = make_project(tmp_path, CONFIG, admin.replace("postgresql://postgres@", "postgresql://app_owner@"),
                           pg_cluster.url(), {"0001_items.sql": ITEMS})
    first = migguard(project, "apply", "--confirm-live")
    assert first.returncode == 0, first.stderr
    assert scalar(admin, "SELECT relowner::regrole::text FROM pg_class WHERE oid = 'items'::regclass") == "app_owner"
    with psycopg.connect(project.env["PG_PROD_URL"]) as conn:  # the application's rows, as it writes them
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (TENANT,))
        conn.execute("INSERT INTO items (tenant_id, body) SELECT %s, 'row ' || g FROM generate_series(1, 3) g",
                     (TENANT,))
    return project


def backups(project) -> list[str]:
    return sorted(p.name for p in (project.root / ".migguard" / "backups").glob("*.dump"))


def test_without_bypassrls_apply_names_the_missing_privilege_and_writes_nothing(project, admin):
    before = backups(project)
    write(project, "0002_note.sql", NOTE)
    for args in (("apply",), ("apply", "--confirm-live")):  # the dry run says what the live run would
        done = migguard(project, *args)
        assert done.returncode == 3, done.stderr
        error = [line for line in done.stderr.splitlines() if line.startswith("migguard: error: ")]
        assert error == [("migguard: error: production refuses what apply needs: role app_owner lacks BYPASSRLS: the "
                          "backup (pg_dump) reads every row of public.items under FORCE ROW LEVEL SECURITY and fails "
                          "with \"query would be affected by row-level security policy\" (a superuser runs ALTER "
                          "ROLE app_owner BYPASSRLS; or apply with --no-backup); nothing was touched")]
        assert "internal error" not in done.stderr
    assert "note" not in columns(admin, "items")
    assert applied_versions(admin) == ["0001"]
    assert scalar(admin, "SELECT count(*) FROM items") == 3
    assert backups(project) == before
    last = [e for e in audit_entries(project, verified=True) if e["command"] == "apply"][-1]
    assert last["result"] == "refused" and "lacks BYPASSRLS" in last["details"]["reason"]
    assert not [e for e in audit_entries(project) if e["result"] == "started" and "0002" in e["migrations"]]
    for args in (("rollback", "--allow-destructive"), ("rollback", "--confirm-live", "--allow-destructive")):
        done = migguard(project, *args)  # rollback backs up first too: the same refusal, before anything
        assert done.returncode == 3, done.stdout + done.stderr
        assert "migguard: error: production refuses what rollback needs: role app_owner lacks BYPASSRLS" in done.stderr
    assert applied_versions(admin) == ["0001"]
    assert scalar(admin, "SELECT count(*) FROM items") == 3
    assert backups(project) == before
    last = [e for e in audit_entries(project, verified=True) if e["command"] == "rollback"][-1]
    assert last["result"] == "refused" and last["details"]["reason_kind"] == "preflight"
    status = migguard(project, "status")  # owned by the connecting role on one side, the shadow's on the other
    assert status.returncode == 0, status.stdout + status.stderr
    assert "drift:    none" in status.stdout


def test_a_precheck_the_role_cannot_run_under_rls_is_a_finding_not_an_internal_error(project):
    write(project, "0002_body_required.sql", BODY_REQUIRED)
    done = migguard(project, "plan", "--continue-on-error")
    assert "internal error" not in done.stderr
    assert done.returncode == 1, done.stderr  # refused by the lint (SET NOT NULL scans), not by a crash
    assert ("warning[precheck-skipped] The not-null pre-check of public.items.body did not run: production refused "
            "to let the connecting role read every row (query would be affected by row-level security policy for "
            'table "items")') in done.stdout


def test_with_bypassrls_apply_backs_up_every_row_and_status_shows_no_drift(project, admin):
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ALTER ROLE app_owner BYPASSRLS")
    try:
        write(project, "0002_note.sql", NOTE)
        done = migguard(project, "apply", "--confirm-live")
        assert done.returncode == 0, done.stderr
        assert "note" in columns(admin, "items")
        assert applied_versions(admin) == ["0001", "0002"]
        assert scalar(admin, "SELECT count(*) FROM items") == 3
        status = migguard(project, "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "drift:    none" in status.stdout
        dump = project.root / ".migguard" / "backups" / backups(project)[-1]
        binaries = client_for(server_major(admin))
        data = subprocess.run([binaries.program("pg_restore"), "--data-only", "--table", "items", "--file", "-",
                               str(dump)], capture_output=True, text=True, check=True).stdout
        assert data.count(TENANT) == 3  # every row, as BYPASSRLS lets pg_dump read them
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("ALTER ROLE app_owner NOBYPASSRLS")


def test_a_role_that_may_not_read_the_history_is_told_so_by_status_and_plan(project, admin):
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE app_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    reader = {"PG_PROD_URL": admin.replace("postgresql://postgres@", "postgresql://app_reader@")}
    # status reads the history; plan also copies production's schema with pg_dump --schema-only
    for command, privileges in (("status", ["USAGE on schema migguard",
                                            "SELECT on migguard.schema_migrations, migguard.schema_migrations_progress"]),
                                ("plan", ["USAGE on schema migguard", "SELECT on migguard.audit_head, public.items",
                                          "SELECT on migguard.schema_migrations, migguard.schema_migrations_progress"])):
        done = migguard(project, command, env=reader)
        assert done.returncode == 3, done.stdout + done.stderr
        lines = done.stderr.splitlines()
        head = lines.index(f"migguard: error: production refuses what {command} needs: role app_reader lacks "
                           f"{len(privileges)} privileges (one line each below); nothing was touched")
        assert [line.strip().split(":")[0] for line in lines[head + 1:]] == privileges
