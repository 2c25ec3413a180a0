"""`migguard apply` and `rollback` with fault injection, on a real PostgreSQL, through the real CLI.

Production is a fresh database on the session cluster; the shadow is the same cluster. The
production URL carries a sentinel password (trust authentication ignores it) that must never
appear in any output, file or log.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from migguard.core.audit import verify
from migguard.pg import cluster, shadow
from migguard.pg.introspect import introspect
from tests.apply.livekit import (
    SENTINEL,
    all_output,
    applied_versions,
    make_project,
    migguard,
    saved_plan,
    with_password,
    write,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "300ms"
max_lock_timeout = "2s"
lock_retries = 3
pg_version = 15
"""

ACCOUNTS = """SET lock_timeout = '2s';
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    legacy_code text
);
"""
ADD_NOTE = "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN note text;\n"
# A migration that sets no lock_timeout of its own: the configured one (300ms) applies.
NOTE_WITHOUT_TIMEOUT = "ALTER TABLE accounts ADD COLUMN note text;\n"
DROP_LEGACY = ("SET lock_timeout = '2s';\n-- migguard:ignore ban-drop-column -- unused since 2024, backup taken by apply\n"
               "ALTER TABLE accounts DROP COLUMN legacy_code;\n")


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url(), {"0001_accounts.sql": ACCOUNTS})


def test_dry_run_changes_nothing(project, pg):
    before = introspect(pg).fingerprint()
    result = migguard(project, "apply")
    assert result.returncode == 0, result.stderr
    assert "DRY RUN" in result.stdout and "CREATE TABLE accounts" in result.stdout
    assert introspect(pg).fingerprint() == before and applied_versions(pg) == []


def test_apply_then_rollback_restores_schema_and_dropped_data(project, pg):
    first = migguard(project, "apply", "--confirm-live")
    assert first.returncode == 0, first.stderr
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (name, legacy_code) SELECT 'a' || g, 'L' || g FROM generate_series(1, 20) g")
    before = introspect(pg).without_schemas("migguard").fingerprint()
    write(project, "0002_drop_legacy.sql", DROP_LEGACY)
    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1 and "--allow-destructive" in refused.stderr
    assert applied_versions(pg) == ["0001"]
    second = migguard(project, "apply", "--confirm-live", "--allow-destructive")
    assert second.returncode == 0, second.stderr
    assert applied_versions(pg) == ["0001", "0002"]
    scripts = list((project.root / ".migguard" / "backups").glob("*.rollback.sql"))
    assert any("migguard rollback --restore-data" in s.read_text() or "legacy_code" in s.read_text() for s in scripts)
    back = migguard(project, "rollback", "--confirm-live")
    assert back.returncode == 0, back.stderr
    assert "public.accounts.legacy_code: 20 row(s) restored" in back.stderr
    assert introspect(pg).without_schemas("migguard").fingerprint() == before
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM accounts WHERE legacy_code = 'L' || substr(name, 2)").fetchone()[0] == 20
    assert applied_versions(pg) == ["0001"]
    assert SENTINEL not in all_output(project, first, refused, second, back)
    assert verify(project.root / ".migguard" / "audit.jsonl").ok


def test_failing_second_statement_rolls_back_that_migration_only(project, pg):
    write(project, "0002_note.sql", ADD_NOTE)
    write(project, "0003_broken.sql", "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN flag boolean;\n"
          "SELECT 1 / (CASE WHEN current_database() LIKE 't%' THEN 0 ELSE 1 END);\n")  # fails on production only
    write(project, "0004_later.sql", "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN later int;\n")
    result = migguard(project, "apply", "--confirm-live")
    assert result.returncode == 3, result.stderr
    assert "0003" in result.stderr and "division by zero" in result.stderr
    assert applied_versions(pg) == ["0001", "0002"]
    columns = set(introspect(pg).tables["public.accounts"].columns)
    assert "note" in columns and "flag" not in columns and "later" not in columns
    assert "rollback of the migrations that did apply" in result.stderr
    audit = [json.loads(line) for line in (project.root / ".migguard" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["result"] == "failed" and SENTINEL not in json.dumps(audit)


def test_killed_client_leaves_production_before_the_migration_and_the_next_apply_resumes(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    # Sleeps only on production (the shadow databases are not named t<N>), after a first statement.
    write(project, "0002_slow.sql", "SET lock_timeout = '2s';\nCREATE TABLE slow_marker (id int);\n"
          "SELECT pg_sleep(CASE WHEN current_database() LIKE 't%' THEN 60 ELSE 0 END);\n")
    directory, env = project.root, project.env
    process = subprocess.Popen([sys.executable, "-m", "migguard", "apply", "--confirm-live"], cwd=directory,
                               env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    with psycopg.connect(pg, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            sleeping = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(CASE%' "
                                       "AND state = 'active' AND datname = current_database()").fetchone()[0]
            if sleeping:
                break
            time.sleep(0.2)
        else:
            process.kill()
            pytest.fail("the slow migration never started")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        for _ in range(100):  # the server notices the dead client (client_connection_check_interval)
            if not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(CASE%' "
                                   "AND datname = current_database()").fetchone()[0]:
                break
            time.sleep(0.2)
    assert applied_versions(pg) == ["0001"]
    assert "public.slow_marker" not in introspect(pg).tables
    write(project, "0002_slow.sql", "SET lock_timeout = '2s';\nCREATE TABLE slow_marker (id int);\n")
    resumed = migguard(project, "apply", "--confirm-live")
    assert resumed.returncode == 0, resumed.stderr
    assert applied_versions(pg) == ["0001", "0002"]


def _hold(url: str, sql: str, seconds: float, ready: threading.Event) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(sql)
        ready.set()
        time.sleep(seconds)
        conn.rollback()


def test_lock_contention_retries_then_succeeds(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_note.sql", NOTE_WITHOUT_TIMEOUT)
    (project.root / "migguard.toml").write_text(CONFIG.replace("lock_retries = 3", "lock_retries = 6"))
    plan = saved_plan(project)
    ready = threading.Event()
    # SHARE conflicts with ALTER TABLE's ACCESS EXCLUSIVE, not with the reads of the gates and pg_dump.
    # Held for longer than the apply takes to reach its first statement; released well within the retries.
    holder = threading.Thread(target=_hold, args=(pg, "LOCK TABLE accounts IN SHARE MODE", 5, ready))
    holder.start()
    ready.wait(10)
    result = migguard(project, "apply", "--confirm-live", "--plan", str(plan))
    holder.join()
    assert result.returncode == 0, result.stderr
    assert "lock not available" in result.stderr and "retry 1/6" in result.stderr, result.stderr
    assert applied_versions(pg) == ["0001", "0002"]


def test_lock_contention_gives_up_without_blocking_readers_for_long(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_note.sql", NOTE_WITHOUT_TIMEOUT)
    ready = threading.Event()
    # An open transaction that read the table: readers are fine, ALTER TABLE must wait.
    holder = threading.Thread(target=_hold, args=(pg, "SELECT * FROM accounts", 25, ready))
    holder.start()
    ready.wait(10)
    latencies: list[float] = []
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(pg, autocommit=True) as conn:
            while not stop.is_set():
                started = time.monotonic()
                conn.execute("SELECT count(*) FROM accounts")
                latencies.append(time.monotonic() - started)
                time.sleep(0.02)

    reading = threading.Thread(target=reader)
    reading.start()
    result = migguard(project, "apply", "--confirm-live")
    stop.set()
    reading.join()
    holder.join()
    assert result.returncode == 3, result.stderr
    assert "lock_timeout 300ms fired 4 times" in result.stderr
    assert applied_versions(pg) == ["0001"]
    assert latencies and max(latencies) < 0.3 + 0.7, f"a reader waited {max(latencies):.2f}s"


def test_two_applies_at_once_one_runs_and_the_other_exits_4(project, pg):
    from migguard.apply.runner import advisory_key

    with psycopg.connect(pg, autocommit=True) as other:  # another apply holds the migration lock
        other.execute("SELECT pg_advisory_lock(%s)", (advisory_key("migguard.schema_migrations"),))
        started = time.monotonic()
        blocked = migguard(project, "apply", "--confirm-live")
        assert blocked.returncode == 4 and "another apply is running" in blocked.stderr
        assert time.monotonic() - started < 60
    assert applied_versions(pg) == []
    assert migguard(project, "apply", "--confirm-live").returncode == 0


def test_stale_plan_is_refused(project, pg):
    plan_dir = saved_plan(project)
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE sneaky (id int)")
    result = migguard(project, "apply", "--confirm-live", "--plan", str(plan_dir), "--accept-drift")
    assert result.returncode == 1 and "stale plan" in result.stderr
    assert applied_versions(pg) == []


def test_unwritable_backup_directory_refuses_with_exit_4(project, pg):
    (project.root / "migguard.toml").write_text(CONFIG + 'backup_dir = "/proc/migguard-cannot-write-here"\n')
    result = migguard(project, "apply", "--confirm-live")
    assert result.returncode == 4 and "no backup, no apply" in result.stderr
    assert applied_versions(pg) == [] and "public.accounts" not in introspect(pg).tables


def test_missing_pg_dump_refuses_with_exit_4(project, pg, tmp_path, monkeypatch):
    plan = saved_plan(project)
    # Nothing on PATH, and no pgserver wheel or local server binaries visible.
    fake_root = tmp_path / "nobin"
    fake_root.mkdir()
    for module in (cluster, shadow):
        monkeypatch.setattr(module, "bundled_binaries", lambda: None)
        monkeypatch.setattr(module, "local_binaries", lambda: [])
    result = migguard(project, "apply", "--confirm-live", "--plan", str(plan), env={"PATH": str(fake_root)})
    assert result.returncode == 4 and "no pg_dump" in result.stderr
    assert applied_versions(pg) == []


def test_refused_live_operations_lead_to_lockdown(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_drop.sql", DROP_LEGACY)
    for _ in range(3):
        assert migguard(project, "apply", "--confirm-live").returncode == 1  # destructive without the flag
    locked = migguard(project, "apply", "--confirm-live", "--allow-destructive")
    assert locked.returncode == 4 and "until" in locked.stderr
    assert applied_versions(pg) == ["0001"]


def test_an_applied_migration_edited_afterwards_refuses_the_apply(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0001_accounts.sql", ACCOUNTS + "-- edited after it ran\n")
    write(project, "0002_note.sql", ADD_NOTE)
    result = migguard(project, "apply", "--confirm-live", "--accept-drift")
    assert result.returncode == 1 and "checksum mismatch" in result.stderr and "0001" in result.stderr
    assert applied_versions(pg) == ["0001"]
