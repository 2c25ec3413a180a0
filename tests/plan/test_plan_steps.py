"""`run_plan` is named steps run by one driver: the progress lines, their order, which steps apply
to a plan (no pre-checks without production) and the per-step timings plan.json records."""

import json
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from migguard.core.config import load_config
from migguard.core.sources import discover
from migguard.pg.history import AppliedMigration, ensure_table, record
from migguard.plan.command import PlanOptions, run_plan

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

STEPS_WITH_PRODUCTION = [
    "[1/9] lint: 1 pending migration(s) of 2",
    "[2/9] replay: 1 applied migration(s) on the shadow (shadow server)",
    "[3/9] clone: production's schema into a second shadow database (pg_dump --schema-only)",
    "[4/9] drift: production against the replayed history",
    "[5/9] apply: 1 pending migration(s) on the clone, tracing locks and rewrites",
    "[6/9] diff: the clone before and after",
    "[7/9] data pre-checks on production (read-only)",
    "[8/9] rls: catalog audit and two-tenant isolation probe on the migrated clone",
    "[9/9] rollback: generate and verify on the clone",
]


@pytest.fixture
def project(tmp_path):
    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "0001_notes.sql").write_text("CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n")
    (migrations / "0002_note_title.sql").write_text("ALTER TABLE notes ADD COLUMN title text;\n")
    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\n')
    return tmp_path


def _production(url: str, project: Path) -> None:
    """Production with 0001 applied and recorded, as apply leaves it."""
    first = discover(project / "db" / "migrations")[0]
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(first.up_sql())
        ensure_table(conn, "migguard.schema_migrations")
        record(conn, "migguard.schema_migrations", AppliedMigration(
            first.version, first.name, first.checksum(), None, "test", datetime.now(timezone.utc), 1))


def test_the_steps_run_in_order_with_their_progress_lines_and_timings(project, pg, pg_cluster):
    _production(pg, project)
    lines: list[str] = []
    report, plan = run_plan(PlanOptions(prod_url=pg, shadow_url=pg_cluster.url()),
                            load_config(str(project / "migguard.toml")), lines.append)
    assert lines == STEPS_WITH_PRODUCTION
    assert list(plan.timings) == ["lint", "replay", "clone", "drift", "apply", "diff", "prechecks", "rls",
                                  "rollback", "total"]
    assert list(plan.timings.values()) == sorted(plan.timings.values())
    assert [c.describe() for c in plan.changes] == ["add column public.notes.title"]
    assert report.ok and plan.rollback_verified
    document = json.loads((plan.directory / "plan.json").read_text())
    assert list(document["timings_s"]) == list(plan.timings)[:-1]  # written before the total is known


def test_without_production_the_clone_is_the_replay_and_there_are_no_prechecks(project, pg_cluster, monkeypatch):
    monkeypatch.delenv("PG_PROD_URL", raising=False)
    lines: list[str] = []
    _report, plan = run_plan(PlanOptions(shadow_url=pg_cluster.url(), write=False),
                             load_config(str(project / "migguard.toml")), lines.append)
    assert lines[0].startswith("no PG_PROD_URL: planned against an empty database")  # before the steps
    steps = lines[1:]
    assert steps[1] == "[2/9] replay: 0 applied migration(s) on the shadow (shadow server)"
    assert steps[2] == "[3/9] clone: no production URL; the replayed history stands for production"
    assert [line.split("]")[0] for line in steps] == ["[1/9", "[2/9", "[3/9", "[4/9", "[5/9", "[6/9", "[8/9", "[9/9"]
    assert "prechecks" not in plan.timings and plan.target == "empty database"
    assert len(plan.changes) == 2 and plan.directory is None
