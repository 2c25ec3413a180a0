"""`migguard status`, `migguard diff` and `migguard shadow` through the real CLI and a real PostgreSQL."""

import json
import os
import re
import shutil
from pathlib import Path

import psycopg
import pytest

from migguard.core.sources import Migration
from migguard.pg.shadow import apply_migration
from tests.plan.test_plan import EXAMPLES, _production
from tests.clirun import Result, run_cli

pytestmark = [pytest.mark.pg, pytest.mark.e2e]


@pytest.fixture
def project(tmp_path):
    shutil.copytree(EXAMPLES / "db", tmp_path / "db")
    shutil.copy(EXAMPLES / "migguard.toml", tmp_path / "migguard.toml")
    return tmp_path


def migguard(project: Path, *args: str, env: dict | None = None) -> Result:
    return run_cli(args, cwd=project, env={**os.environ, **(env or {})})


def test_status_reports_applied_pending_edited_and_drift(project, pg, pg_cluster):
    _production(pg, project, applied=6, rows=False)
    env = {"PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url()}
    result = migguard(project, "status", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["pending"] == ["0007", "0008", "0009"] and len(document["applied"]) == 6
    assert document["drift"] == [] and document["edited"] == []
    applied = project / "db" / "migrations" / "0002_create_users.sql"
    applied.write_text(applied.read_text() + "\n-- edited after it ran\n")
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("ALTER TABLE services ADD COLUMN hand_made int")
    result = migguard(project, "status", env=env)
    assert result.returncode == 1
    assert "edited:   0002" in result.stdout and "drift:    add column public.services.hand_made" in result.stdout


def test_status_without_production_url_is_a_usage_error(project):
    result = migguard(project, "status", env={"PG_PROD_URL": ""})
    assert result.returncode == 2 and result.stderr.startswith("migguard: error: PG_PROD_URL is not set")


def test_diff_between_a_database_and_a_migrations_directory(project, pg, pg_cluster):
    _production(pg, project, applied=6, rows=False)
    env = {"PG_SHADOW_URL": pg_cluster.url()}
    result = migguard(project, "diff", pg, "db/migrations", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    objects = {c["object"] for c in json.loads(result.stdout)["changes"]}
    assert {"public.payouts", "public.invoices.legacy_ref", "public.invoices.due_on"} <= objects
    script = migguard(project, "diff", pg, "db/migrations", "--sql", env=env)
    # the printed SQL really turns FROM into TO, each migration file it prints run as migguard runs one
    # (online by default: a file with CONCURRENTLY statement by statement)
    files = re.split(r"^-- migguard: migration file \d+ of \d+.*\n", script.stdout, flags=re.MULTILINE)
    assert "CONCURRENTLY" in script.stdout and len(files) > 2
    with psycopg.connect(pg, autocommit=True) as conn:
        for number, text in enumerate(f for f in files if f.strip()):
            (project / f"generated_{number}.sql").write_text(text)
            apply_migration(conn, Migration(str(number), "generated", project / f"generated_{number}.sql"))
    again = migguard(project, "diff", pg, "db/migrations", "--format", "json", env=env)
    assert json.loads(again.stdout)["changes"] == []
    assert "password" not in result.stdout


def test_shadow_start_status_stop(project):
    assert migguard(project, "shadow", "status").returncode == 1
    started = migguard(project, "shadow", "start")
    assert started.returncode == 0 and "shadow running" in started.stdout
    try:
        assert migguard(project, "shadow", "status").returncode == 0
        state = json.loads((project / ".migguard" / "shadow.json").read_text())
        with psycopg.connect(state["url"]) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        assert migguard(project, "shadow", "stop").returncode == 0
    assert migguard(project, "shadow", "status").returncode == 1
    assert not Path(state["directory"]).exists()


def test_diff_between_two_databases_reads_both_and_reports_an_unreachable_one_in_one_line(project, pg, pg_cluster):
    """`diff URL URL` reads the two servers at once (pg/introspect.introspect_all); the result is
    the change set, and a failing side is one redacted line with the database exit code."""
    from tests.conftest import fresh_database

    other = fresh_database(pg_cluster, "dd")
    target = next(other)
    try:
        for url, extra in ((pg, ""), (target, ", due_on date NOT NULL")):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"CREATE TABLE invoices (id bigint PRIMARY KEY{extra})")
        result = migguard(project, "diff", pg, target, "--format", "json")
        assert result.returncode == 0, result.stderr
        assert [c["object"] for c in json.loads(result.stdout)["changes"]] == ["public.invoices.due_on"]
        broken = target.replace("/dd", "/no_such_db_")
        failed = migguard(project, "diff", pg, broken.replace("postgres@", "postgres:s3cret-pw@"))
        assert failed.returncode == 3, failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1 and "Traceback" not in failed.stderr
        assert "s3cret-pw" not in failed.stderr + failed.stdout
    finally:
        next(other, None)
