"""`migguard baseline` through the real CLI on a real PostgreSQL (issue 11, items 1 and 6).

Production is a fresh database on the session cluster, built with plain SQL (never by migguard);
the shadow is the same cluster. Its URL carries a sentinel password that must never appear in
any output or file. Each test asserts production's state and the project's files afterwards.
"""

import hashlib
import json
from datetime import UTC, datetime

import psycopg
import pytest

from migguard.pg.history import AppliedMigration, ensure_table, record
from migguard.pg.introspect import introspect
from tests.apply.livekit import (
    assert_clean,
    audit_entries,
    audit_path,
    ensure_app_user,
    make_project,
    migguard,
    newest_plan,
    query,
    with_password,
    write,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = '[tool.migguard]\nmigrations = "db/migrations"\nlock_timeout = "2s"\npg_version = 15\n'
HISTORY = '"Mig.Hist"."Schema Migrations"'
TENANT = "current_setting('app.tenant_id')::uuid"

# Production as a team built it before migguard: plain SQL, a tenant table under RLS, a view, a
# partitioned table (RLS on the parent and its partition), a sequence, grants to the app role, data.
PRODUCTION = f"""
CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE notes (
    tenant_id uuid NOT NULL REFERENCES tenants,
    id bigint GENERATED ALWAYS AS IDENTITY,
    body text,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notes USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT});
CREATE TABLE events (tenant_id uuid NOT NULL, at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT});
ALTER TABLE events_2026 ENABLE ROW LEVEL SECURITY;
ALTER TABLE events_2026 FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events_2026 USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT});
CREATE VIEW note_counts WITH (security_invoker = true) AS SELECT tenant_id, count(*) AS notes FROM notes GROUP BY 1;
CREATE SEQUENCE invoice_numbers START 1000;
GRANT SELECT, INSERT, UPDATE, DELETE ON notes, events TO app_user;
GRANT SELECT ON note_counts TO app_user;
GRANT USAGE ON SEQUENCE invoice_numbers TO app_user;
INSERT INTO tenants VALUES ('11111111-1111-1111-1111-111111111111', 'one'), ('22222222-2222-2222-2222-222222222222', 'two');
INSERT INTO notes (tenant_id, body) SELECT id, 'hello ' || name FROM tenants;
INSERT INTO events VALUES ('11111111-1111-1111-1111-111111111111', '2026-06-01', 'signup');
SELECT nextval('invoice_numbers');
"""


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    ensure_app_user(pg_cluster.url())
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(PRODUCTION)
    return make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url())


def _schema(url: str) -> str:
    """Production's application schema (migguard's own left out), as a fingerprint."""
    return introspect(url).without_schemas("migguard", "Mig.Hist").fingerprint()


def _rows(url: str) -> list[tuple]:
    return query(url, "SELECT (SELECT count(*) FROM notes), (SELECT count(*) FROM events), "
                      "(SELECT last_value FROM invoice_numbers)")


def _history(url: str, table: str = "migguard.schema_migrations") -> list[tuple]:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
            return []
        return conn.execute(f"SELECT version, name, checksum FROM {table} ORDER BY version").fetchall()


def test_adopting_a_production_built_without_migguard(project, pg):  # every major: test_adoption.py
    schema, rows = _schema(pg), _rows(pg)

    dry = migguard(project, "baseline")
    assert dry.returncode == 0, dry.stderr
    assert "would write" in dry.stdout and "0001_baseline.sql" in dry.stdout
    assert "CREATE TABLE public.notes" in dry.stdout and "CREATE POLICY tenant_isolation ON public.events" in dry.stdout
    assert "4 tables, 1 views" in dry.stdout.splitlines()[0]  # tenants, notes, events, events_2026
    # the dry run wrote nothing: no file, no history, no audit entry
    assert list(project.migrations.iterdir()) == []
    assert query(pg, "SELECT count(*) FROM pg_namespace WHERE nspname = 'migguard'") == [(0,)]
    assert not audit_path(project).exists()

    live = migguard(project, "baseline", "--confirm-live")
    assert live.returncode == 0, live.stderr
    baseline = project.migrations / "0001_baseline.sql"
    assert [p.name for p in project.migrations.iterdir()] == ["0001_baseline.sql"]
    text = baseline.read_text()
    assert text.startswith("-- migguard baseline:") and "DO NOT EDIT" in text
    assert _history(pg) == [("0001", "baseline", hashlib.sha256(baseline.read_bytes()).hexdigest())]
    assert _schema(pg) == schema and _rows(pg) == rows  # production's schema and data untouched
    entries = [e for e in audit_entries(project, verified=True) if e["result"] != "started"]
    assert [(e["command"], e["result"], e["migrations"]) for e in entries] == [("baseline", "applied", ["0001"])]
    assert entries[0]["details"]["checksum"] == _history(pg)[0][2]

    plan = migguard(project, "plan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    document = json.loads((newest_plan(project) / "plan.json").read_text())
    assert document["pending"] == [] and document["drift"] == []
    status = migguard(project, "status", "--format", "json")
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["applied"] == ["0001"] and report["pending"] == [] and report["drift"] == []

    lint = migguard(project, "lint", "--strict")  # its one ignore-file directive: the folder's lint passes
    assert lint.returncode == 0, lint.stdout + lint.stderr
    made = migguard(project, "new", "add_due_date", "--template", "feature")
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in project.migrations.iterdir()) == ["0001_baseline.sql", "0002_add_due_date.sql"]
    assert_clean(project, dry, live, plan, status, made)


def test_a_quoted_dotted_history_table_records_the_baseline_and_a_tampered_file_is_a_checksum_mismatch(project, pg):
    (project.root / "migguard.toml").write_text(CONFIG + f"history_table = '{HISTORY}'\n")
    with psycopg.connect(pg) as conn:  # an empty history already there: its schema is left out of the dump
        ensure_table(conn, HISTORY)
        conn.commit()
    live = migguard(project, "baseline", "--confirm-live")
    assert live.returncode == 0, live.stderr
    baseline = project.migrations / "0001_baseline.sql"
    assert _history(pg, HISTORY) == [("0001", "baseline", hashlib.sha256(baseline.read_bytes()).hexdigest())]
    assert {r[0] for r in query(pg, "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%ig%'")} == {"Mig.Hist"}
    assert "Mig.Hist" not in baseline.read_text().split("(`migguard new`).", 1)[1]  # only the header names it
    status = migguard(project, "status", "--format", "json")
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["applied"] == ["0001"] and json.loads(status.stdout)["drift"] == []

    baseline.write_text(baseline.read_text().replace("body text", "body varchar(200)"))
    edited = migguard(project, "status", "--format", "json", "--no-drift")
    assert edited.returncode == 1, edited.stdout + edited.stderr
    assert json.loads(edited.stdout)["edited"] == ["0001"]
    plan = migguard(project, "plan")
    assert plan.returncode == 1 and "checksum-mismatch" in plan.stdout, plan.stdout + plan.stderr
    assert_clean(project, live, status, edited, plan)


def test_refusals_leave_production_and_the_files_untouched(project, pg):
    schema = _schema(pg)
    write(project, "0001_existing.sql", "SELECT 1;\n")
    folder = migguard(project, "baseline", "--confirm-live")
    assert folder.returncode == 2 and "already holds 1 migration file(s)" in folder.stderr, folder.stderr
    assert [p.name for p in project.migrations.iterdir()] == ["0001_existing.sql"]
    assert (project.migrations / "0001_existing.sql").read_text() == "SELECT 1;\n"
    assert query(pg, "SELECT count(*) FROM pg_namespace WHERE nspname = 'migguard'") == [(0,)]

    (project.migrations / "0001_existing.sql").unlink()
    with psycopg.connect(pg) as conn:  # a production some other run already recorded a migration in
        ensure_table(conn, "migguard.schema_migrations")
        record(conn, "migguard.schema_migrations", AppliedMigration("0007", "earlier", "abc", None, "x", datetime.now(UTC), 1))
        conn.commit()
    for args in (("baseline",), ("baseline", "--confirm-live")):
        history = migguard(project, *args)
        assert history.returncode == 2, history.stderr
        assert "already records 1 migration(s) (0007 first)" in history.stderr
        assert len(history.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert list(project.migrations.iterdir()) == []
    assert [r[:2] for r in _history(pg)] == [("0007", "earlier")]
    assert _schema(pg) == schema
    assert not audit_path(project).exists()
    assert_clean(project, folder, history)


def test_a_baseline_that_cannot_reproduce_production_is_refused_with_the_differences(project, pg, pg_cluster):
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute("DO $$ BEGIN CREATE ROLE reports_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    # owned by a role that is not the one migguard connects as: the baseline does not set owners
    query(pg, "CREATE TABLE reports (id int PRIMARY KEY); ALTER TABLE reports OWNER TO reports_owner")
    schema = _schema(pg)
    refused = migguard(project, "baseline", "--confirm-live")
    assert refused.returncode == 1, refused.stderr
    assert "differs from production in 1 object(s): nothing was written" in refused.stderr
    assert "alter table owner public.reports" in refused.stderr
    assert list(project.migrations.iterdir()) == [] and _history(pg) == []
    assert _schema(pg) == schema  # only the audit head moved (migguard.audit_head: a refusal is audited)
    entries = audit_entries(project, verified=True)
    assert [(e["command"], e["result"], e["details"]["reason_kind"]) for e in entries] == [
        ("baseline", "refused", "gate")]
    dry = migguard(project, "baseline")  # the dry run exits as the live run would
    assert dry.returncode == 1 and dry.stdout == "", dry.stderr
    assert_clean(project, refused, dry)
