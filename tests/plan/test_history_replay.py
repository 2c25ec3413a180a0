"""A history that does not replay on the shadow is a finding, not a database failure (exit 1, not 3):
`history-not-replayable` names the migration, PostgreSQL's error and the fix (`migguard baseline`
when production has what the history lacks); `extension-unavailable` names an extension the shadow
server lacks and how to provide one. Through the CLI, with production's state checked afterwards."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from migguard.core.sources import discover
from migguard.pg.history import AppliedMigration, ensure_table, record
from tests.apply.livekit import applied_versions, columns, make_project, migguard, scalar

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = '[tool.migguard]\nmigrations = "db/migrations"\n'


def _applied(url: str, project, count: int, run: bool = True) -> None:
    """Record the first `count` migrations as applied in production's history (and run them, unless not)."""
    migrations = discover(project.migrations)[:count]
    with psycopg.connect(url) as conn, conn.transaction():
        for migration in migrations:
            if run:
                conn.execute(migration.up_sql())
        ensure_table(conn, "migguard.schema_migrations")
        for migration in migrations:
            record(conn, "migguard.schema_migrations", AppliedMigration(
                migration.version, migration.name, migration.checksum(), None, "test", datetime.now(timezone.utc), 1))


def test_production_that_predates_the_history_is_told_to_baseline(tmp_path, pg, pg_cluster):
    """A table made by hand before the migrations: the first migration alters it, so the history
    cannot replay; plan (even with --accept-drift), status and apply say so and name the fix."""
    project = make_project(tmp_path, CONFIG, pg, pg_cluster.url(), {
        "0001_customer_email.sql": "ALTER TABLE customers ADD COLUMN email text;\n",
        "0002_customer_name.sql": "ALTER TABLE customers ADD COLUMN name text;\n"})
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id bigint PRIMARY KEY)")
    _applied(pg, project, 1)

    plan = migguard(project, "plan", "--accept-drift")
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert "history-not-replayable" in plan.stdout and "0001_customer_email.sql" in plan.stdout
    assert 'relation "customers" does not exist' in plan.stdout
    assert "Production has relation customers" in plan.stdout and "migguard baseline" in plan.stdout
    assert "Traceback" not in plan.stderr and not (project.root / ".migguard" / "plans").exists()

    status = migguard(project, "status")
    assert status.returncode == 1, status.stdout + status.stderr
    assert "history-not-replayable" in status.stderr and "migguard baseline" in status.stderr

    apply = migguard(project, "apply", "--confirm-live", "--accept-drift")
    assert apply.returncode == 1, apply.stdout + apply.stderr
    assert "history-not-replayable" in apply.stderr and "migguard baseline" in apply.stderr
    assert columns(pg, "customers") == {"id", "email"} and applied_versions(pg) == ["0001"]


def test_an_object_nothing_creates_is_named(tmp_path, pg, pg_cluster):
    """The history alters a table neither an earlier migration nor production has."""
    project = make_project(tmp_path, CONFIG, pg, pg_cluster.url(), {
        "0001_ghost_flag.sql": "ALTER TABLE ghosts ADD COLUMN flag boolean;\n"})
    _applied(pg, project, 1, run=False)
    plan = migguard(project, "plan")
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert "history-not-replayable" in plan.stdout
    assert "No migration before 0001 creates relation ghosts, and production has none either" in plan.stdout
    assert "baseline" not in plan.stdout


def test_an_applied_extension_the_shadow_lacks_is_a_finding(tmp_path, pg15, bundled_cluster):
    """Production on PostgreSQL 15 has pg_trgm (contrib); the shadow is the bundled server, which has no contrib."""
    project = make_project(tmp_path, CONFIG, pg15, bundled_cluster.url(), {
        "0001_trigrams.sql": "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n",
        "0002_words.sql": "CREATE TABLE words (word text);\n"})
    _applied(pg15, project, 1)
    plan = migguard(project, "plan")
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert "extension-unavailable" in plan.stdout and "needs extension pg_trgm" in plan.stdout
    assert "migguard shadow start --pg-version 15" in plan.stdout
    status = migguard(project, "status")
    assert status.returncode == 1 and "extension-unavailable" in status.stderr, status.stdout + status.stderr


def test_a_pending_extension_the_shadow_lacks_is_a_finding(tmp_path, pg, bundled_cluster):
    project = make_project(tmp_path, CONFIG, pg, bundled_cluster.url(), {
        "0001_trigrams.sql": "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"})
    plan = migguard(project, "plan")
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert "extension-unavailable" in plan.stdout and "migration-fails" not in plan.stdout
    apply = migguard(project, "apply", "--confirm-live")
    assert apply.returncode == 1, apply.stdout + apply.stderr
    assert "extension-unavailable" in apply.stderr
    assert scalar(pg, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'") == 0
    assert applied_versions(pg) == []


def test_an_extension_production_has_and_the_shadow_lacks_is_a_finding(tmp_path, pg15, bundled_cluster):
    """pg_trgm made by hand in production (no migration creates it): its schema cannot be restored on
    the bundled server, so the clone (plan) and the drift check (status) stop with the finding."""
    project = make_project(tmp_path, CONFIG, pg15, bundled_cluster.url(), {
        "0001_words.sql": "CREATE TABLE words (word text);\n"})
    with psycopg.connect(pg15, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_trgm")
    plan = migguard(project, "plan")
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert "extension-unavailable" in plan.stdout and "Production has extension(s) pg_trgm" in plan.stdout
    assert "--pg-version 15" in plan.stdout
    status = migguard(project, "status")
    assert status.returncode == 1 and "Production has extension(s) pg_trgm" in status.stderr, status.stderr
    assert scalar(pg15, "SELECT to_regclass('words') IS NULL")
