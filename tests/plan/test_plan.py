"""`migguard plan` end to end on a real PostgreSQL: a seeded "production" database, the shadow on
the same ephemeral cluster, the example store's migrations."""

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from migguard.core.config import load_config
from migguard.core.sources import discover
from migguard.pg.history import AppliedMigration, ensure_table, record
from migguard.pg.introspect import introspect
from migguard.pg.shadow import apply_migration
from migguard.plan.command import PlanOptions, PlanRefused, run_plan

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def project(tmp_path):
    shutil.copytree(EXAMPLES / "db", tmp_path / "db")
    shutil.copy(EXAMPLES / "migguard.toml", tmp_path / "migguard.toml")
    return tmp_path


def _production(url: str, project: Path, applied: int, rows: bool = True) -> None:
    """Apply the first `applied` migrations as apply would, with history, and seed some rows."""
    migrations = discover(project / "db" / "migrations")
    with psycopg.connect(url, autocommit=True) as conn:
        for migration in migrations[:applied]:
            apply_migration(conn, migration)
        with conn.transaction():
            ensure_table(conn, "migguard.schema_migrations")
            for migration in migrations[:applied]:
                record(conn, "migguard.schema_migrations", AppliedMigration(
                    migration.version, migration.name, migration.checksum(), None, "test",
                    datetime.now(timezone.utc), 1))
        if rows:
            conn.execute("""
                INSERT INTO tenants (id, slug, name) VALUES ('00000000-0000-0000-0000-00000000000a', 'a', 'A');
                INSERT INTO invoices (tenant_id, number, amount_cents, legacy_ref)
                SELECT '00000000-0000-0000-0000-00000000000a', 'INV-' || g, g, 'L' || g FROM generate_series(1, 25) g;
            """)


def _plan(project, pg, pg_cluster, **options):
    config = load_config(str(project / "migguard.toml"))
    lines = []
    report, plan = run_plan(PlanOptions(prod_url=pg, shadow_url=pg_cluster.url(), **options), config, lines.append)
    return report, plan, lines


def test_plan_against_production(project, pg, pg_cluster):
    _production(pg, project, applied=6)
    production_before = introspect(pg).fingerprint()
    report, plan, lines = _plan(project, pg, pg_cluster, continue_on_error=True, allow_destructive=True)
    assert plan.applied == ["0001", "0002", "0003", "0004", "0005", "0006"]
    assert plan.pending == ["0007", "0008", "0009"]
    assert plan.drift == []
    kinds = {(c.kind, c.object) for c in plan.changes}
    assert ("drop column", "public.invoices.legacy_ref") in kinds and ("create table", "public.payouts") in kinds
    assert plan.rollback_verified
    # 0007 adds a NOT NULL column without default: production's 25 invoices make it fail.
    failing = [f for f in report.findings if f.rule == "precheck-not-null"]
    assert failing and "25 row(s)" in failing[0].message
    destroyed = [f for f in report.findings if f.rule == "precheck-destroyed-rows"]
    assert destroyed and "25 row(s)" in destroyed[0].message and "legacy_ref" in destroyed[0].message
    assert not report.ok
    assert [line.split("]")[0] for line in lines] == [f"[{n}/9" for n in range(1, 10)]
    files = sorted(p.name for p in plan.directory.iterdir())
    assert files == ["forward.sql", "plan.json", "plan.md", "rollback", "rollback.sql", "schema-after.json",
                     "schema-before.json"]
    assert sorted(p.name for p in (plan.directory / "rollback").iterdir()) == ["0007.sql", "0008.sql", "0009.sql"]
    assert "DROP TABLE public.payouts;" in (plan.directory / "rollback" / "0009.sql").read_text()
    document = json.loads((plan.directory / "plan.json").read_text())
    assert document["fingerprint"] == plan.fingerprint and document["pending"] == ["0007", "0008", "0009"]
    assert "ALTER TABLE public.invoices ADD COLUMN legacy_ref text;" in (plan.directory / "rollback.sql").read_text()
    assert introspect(pg).fingerprint() == production_before, "plan must only read production"


def test_plan_traces_locks_and_rewrites(project, pg, pg_cluster):
    _production(pg, project, applied=6, rows=False)
    (project / "db" / "migrations" / "0010_retype.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE invoices ALTER COLUMN amount_cents TYPE numeric;\n")
    _report, plan, _ = _plan(project, pg, pg_cluster, continue_on_error=True, allow_destructive=True)
    rewrites = [t for t in plan.traces if t.rewritten]
    assert any("public.invoices" in t.rewritten and t.migration.endswith("0010_retype.sql") for t in rewrites)
    locks = [t for t in plan.traces if t.locks.get("public.invoices") == "AccessExclusiveLock"]
    assert locks


def test_drift_is_reported_and_blocks(project, pg, pg_cluster):
    _production(pg, project, applied=6, rows=False)
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ADD COLUMN hand_made text")
    report, plan, _ = _plan(project, pg, pg_cluster, continue_on_error=True, allow_destructive=True)
    assert [c.object for c in plan.drift] == ["public.users.hand_made"]
    assert any(f.rule == "schema-drift" and f.severity == "error" for f in report.findings)
    assert not report.ok
    report, _, _ = _plan(project, pg, pg_cluster, continue_on_error=True, allow_destructive=True, accept_drift=True)
    assert all(f.severity != "error" for f in report.findings if f.rule == "schema-drift")


def test_fingerprint_changes_with_production_and_with_files(project, pg, pg_cluster):
    _production(pg, project, applied=6, rows=False)
    options = dict(continue_on_error=True, allow_destructive=True, write=False)
    _, first, _ = _plan(project, pg, pg_cluster, **options)
    _, same, _ = _plan(project, pg, pg_cluster, **options)
    assert first.fingerprint == same.fingerprint
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE INDEX users_email_idx ON users (email)")
    _, prod_changed, _ = _plan(project, pg, pg_cluster, accept_drift=True, **options)
    assert prod_changed.fingerprint != first.fingerprint
    pending = project / "db" / "migrations" / "0009_create_payouts.sql"
    pending.write_text(pending.read_text() + "\n-- edited\n")
    _, file_changed, _ = _plan(project, pg, pg_cluster, accept_drift=True, **options)
    assert file_changed.fingerprint not in (first.fingerprint, prod_changed.fingerprint)


def test_lint_errors_stop_the_plan(project, pg, pg_cluster):
    _production(pg, project, applied=6, rows=False)
    with pytest.raises(PlanRefused):
        _plan(project, pg, pg_cluster)


def test_a_migration_that_fails_on_the_shadow_is_refused(project, pg, pg_cluster):
    _production(pg, project, applied=9, rows=False)
    (project / "db" / "migrations" / "0010_broken.sql").write_text("ALTER TABLE no_such_table ADD COLUMN x int;\n")
    with pytest.raises(PlanRefused) as refused:
        _plan(project, pg, pg_cluster, continue_on_error=True)
    assert any(f.rule == "migration-fails" for f in refused.value.report.findings)


def test_watched_query_that_loses_its_index_is_reported(project, pg, pg_cluster):
    _production(pg, project, applied=9, rows=False)
    (project / "db" / "watch_queries.sql").write_text(
        "-- the booking calendar\nSELECT * FROM bookings WHERE tenant_id = '00000000-0000-0000-0000-00000000000a' "
        "AND starts_at > now();\nSELECT count(*) FROM tenants;\n")
    (project / "migguard.toml").write_text((project / "migguard.toml").read_text().replace(
        'app_roles = ["app_user"]', 'app_roles = ["app_user"]\nwatch_queries = "db/watch_queries.sql"'))
    (project / "db" / "migrations" / "0010_drop_index.sql").write_text(
        "SET lock_timeout = '2s';\nDROP INDEX CONCURRENTLY bookings_tenant_starts_idx;\n")
    report, plan, _ = _plan(project, pg, pg_cluster, continue_on_error=True, allow_destructive=True)
    regressions = [f for f in report.findings if f.rule == "query-plan-regression"]
    assert [c.line for c in plan.query_plans if c.regressed] == [2]
    assert regressions and "bookings_tenant_starts_idx" in regressions[0].message and regressions[0].line == 2


def test_hand_written_down_scripts_are_checked_on_the_shadow(tmp_path, pg, pg_cluster):
    migrations = tmp_path / "db" / "migrations"
    for version, up, down in (
        ("0001_accounts", "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);", "DROP TABLE accounts;"),
        ("0002_note", "ALTER TABLE accounts ADD COLUMN note text;", "ALTER TABLE accounts DROP COLUMN note;"),
        # wrong: forgets to drop the index it should undo
        ("0003_index", "CREATE INDEX accounts_name_idx ON accounts (name);\nALTER TABLE accounts ADD COLUMN flag int;",
         "ALTER TABLE accounts DROP COLUMN flag;"),
    ):
        (migrations / version).mkdir(parents=True)
        (migrations / version / "up.sql").write_text(up + "\n")
        (migrations / version / "down.sql").write_text(down + "\n")
    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\n')
    config = load_config(str(tmp_path / "migguard.toml"))
    report, plan = run_plan(PlanOptions(prod_url=pg, shadow_url=pg_cluster.url(), continue_on_error=True,
                                        allow_destructive=True), config)
    mismatches = [f for f in report.findings if f.rule == "down-script-mismatch"]
    assert len(mismatches) == 1 and "0003" in mismatches[0].message and "accounts_name_idx" in mismatches[0].message
    assert mismatches[0].path.endswith("0003_index/down.sql")
    (migrations / "0003_index" / "down.sql").write_text("DROP INDEX accounts_name_idx;\nALTER TABLE accounts DROP COLUMN flag;\n")
    report, _ = run_plan(PlanOptions(prod_url=pg, shadow_url=pg_cluster.url(), continue_on_error=True,
                                     allow_destructive=True, write=False), config)
    assert not [f for f in report.findings if f.rule.startswith("down-script")]


def test_configured_rule_settings_apply_to_database_findings(project, pg, pg_cluster):
    _production(pg, project, applied=6)
    (project / "migguard.toml").write_text((project / "migguard.toml").read_text().replace(
        "[tool.migguard.rls]",
        '[tool.migguard.rules]\nprecheck-destroyed-rows = "error"\nrls-probe-unique-leak = "off"\n\n[tool.migguard.rls]'))
    report, _, _ = _plan(project, pg, pg_cluster, continue_on_error=True, allow_destructive=True, write=False)
    destroyed = [f for f in report.findings if f.rule == "precheck-destroyed-rows"]
    assert destroyed and {f.severity for f in destroyed} == {"error"}
    assert not [f for f in report.findings if f.rule == "rls-probe-unique-leak"]
