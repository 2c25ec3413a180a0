"""The audit log and the lockdown on the live path, attacked and interrupted through the real CLI
on a real PostgreSQL: afterwards production's rows, catalog, history and audit head are checked,
and the log on disk, not only the exit codes.

Production is a fresh database on the session cluster (the shadow is the same cluster); its URL
carries a sentinel password that must never be written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg
import pytest

from migguard.apply.runner import advisory_key
from migguard.core.audit import lockdown_identity, verify
from migguard.pg.history import AppliedMigration, ensure_table, read_applied, record
from tests.apply.livekit import (
    audit_entries,
    audit_path,
    columns,
    make_project,
    migguard,
    saved_plan,
    with_password,
    write,
)

# The first major only: what is attacked here is the log on disk and migguard's own head row, which
# no PostgreSQL major reads differently (the live path's database faults run on every major).
pytestmark = [pytest.mark.pg, pytest.mark.e2e]

SENTINEL = "S3ntinel-Audit-pw"
CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "300ms"
max_lock_timeout = "2s"
lock_retries = 1
pg_version = 15
"""
ACCOUNTS = """SET lock_timeout = '2s';
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    legacy_code text
);
CREATE TABLE parked (note text);  -- only pg_dump opens it: a test holds its lock to stop the backup
"""
ADD_NOTE = "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN note text;\n"
DROP_LEGACY = ("SET lock_timeout = '2s';\n-- migguard:ignore ban-drop-column -- unused since 2024, backup taken by apply\n"
               "ALTER TABLE accounts DROP COLUMN legacy_code;\n")


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG, with_password(pg, SENTINEL), pg_cluster.url(), {"0001_accounts.sql": ACCOUNTS})


def lines(project) -> list[bytes]:
    return audit_path(project).read_bytes().split(b"\n")[:-1]


def applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row.version for row in read_applied(conn, "migguard.schema_migrations")]


def production_head(url: str) -> tuple[str, int, str] | None:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('migguard.audit_head')").fetchone()[0] is None:
            return None
        return conn.execute("SELECT log_id, lines, head FROM migguard.audit_head "
                            "WHERE history_table = 'migguard.schema_migrations'").fetchone()


def sha(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def test_killed_apply_leaves_a_started_entry_covered_by_production_head(project, pg):
    first = migguard(project, "apply", "--confirm-live")
    assert first.returncode == 0, first.stderr
    assert [e["result"] for e in audit_entries(project)] == ["started", "applied"]
    assert production_head(pg) == (sha(lines(project)[0]), 2, sha(lines(project)[1]))  # first run records it
    write(project, "0002_note.sql", ADD_NOTE)
    plan = saved_plan(project)
    directory, env = project.root, project.env
    with psycopg.connect(pg) as holder, psycopg.connect(pg, autocommit=True) as watcher:
        holder.execute("LOCK TABLE parked IN ACCESS EXCLUSIVE MODE")  # pg_dump waits: killed mid-backup
        process = subprocess.Popen([sys.executable, "-m", "migguard", "apply", "--confirm-live", "--plan", str(plan)],
                                   cwd=directory, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline and not watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' "
                    "AND wait_event_type = 'Lock' AND datname = current_database()").fetchone()[0]:
                time.sleep(0.1)
            assert process.poll() is None, f"the apply ended before its backup: {process.stderr.read()}"
            assert time.monotonic() < deadline, "pg_dump never started"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            process.stderr.close()
        holder.rollback()
    started = audit_entries(project)[-1]
    assert started["result"] == "started" and started["migrations"] == ["0002"]
    assert started["fingerprint"] == json.loads((plan / "plan.json").read_text())["fingerprint"]
    assert started["backup_path"] is None and started["details"]["live"] is True
    assert verify(audit_path(project)).ok
    assert applied(pg) == ["0001"] and "note" not in columns(pg)
    # The trace of the killed run is itself protected: production's head already points at it.
    assert production_head(pg)[1:] == (3, sha(lines(project)[-1]))
    resumed = migguard(project, "apply", "--confirm-live", "--plan", str(plan))
    assert resumed.returncode == 0, resumed.stderr
    assert applied(pg) == ["0001", "0002"] and "note" in columns(pg)
    assert [e["result"] for e in audit_entries(project)][-2:] == ["started", "applied"]
    assert SENTINEL not in audit_path(project).read_text()


def test_tampered_log_refuses_live_runs_until_a_deliberate_restart(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_note.sql", ADD_NOTE)
    tampered = lines(project)
    tampered[1] = tampered[1].replace(b'"result":"applied"', b'"result":"failed"')
    audit_path(project).write_bytes(b"".join(line + b"\n" for line in tampered))
    head_before = production_head(pg)

    dry = migguard(project, "apply")  # the dry run says what the live run would do, and reads only
    live = migguard(project, "apply", "--confirm-live")
    back = migguard(project, "rollback", "--confirm-live")
    for result in (dry, live, back):
        assert result.returncode == 4, result.stderr
        assert "broken at line 2" in result.stderr and "migguard audit restart" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert applied(pg) == ["0001"] and "note" not in columns(pg) and "legacy_code" in columns(pg)
    assert production_head(pg) == head_before
    refusals = audit_entries(project)[2:]
    assert [(e["command"], e["result"], e["details"]["reason_kind"]) for e in refusals] == [
        ("apply", "refused", "audit-broken"), ("rollback", "refused", "audit-broken")]

    assert migguard(project, "audit", "restart", "--confirm-live", "--reason", " ").returncode == 2
    dry_restart = migguard(project, "audit", "restart", "--reason", "line 2 edited by hand; investigated")
    assert dry_restart.returncode == 0 and "DRY RUN" in dry_restart.stdout
    assert production_head(pg) == head_before and len(lines(project)) == 4
    restarted = migguard(project, "audit", "restart", "--confirm-live", "--reason", "line 2 edited; investigated")
    assert restarted.returncode == 0, restarted.stderr
    (kept,) = audit_path(project).parent.glob("audit.jsonl.replaced-*")  # the evidence, moved aside untouched
    assert kept.read_bytes().split(b"\n")[:-1][:2] == tampered and len(kept.read_bytes().splitlines()) == 4
    (first,) = audit_entries(project)
    assert first["result"] == "restarted" and first["details"]["reason"] == "line 2 edited; investigated"
    assert first["details"]["production_head"]["lines"] == 2 and "broken at line 2" in first["details"]["replaced_state"]
    assert production_head(pg) == (sha(lines(project)[0]), 1, sha(lines(project)[0]))
    healthy = migguard(project, "audit", "restart", "--confirm-live", "--reason", "again")
    assert healthy.returncode == 2 and "nothing to restart" in healthy.stderr

    after = migguard(project, "apply", "--confirm-live")
    assert after.returncode == 0, after.stderr
    assert applied(pg) == ["0001", "0002"] and "note" in columns(pg)
    assert production_head(pg)[1] == len(lines(project)) == 3


def test_removed_or_reforged_newest_entries_are_caught_by_production_head(project, pg):
    assert migguard(project, "apply").returncode == 0  # a dry-run entry first
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_note.sql", ADD_NOTE)
    original = audit_path(project).read_bytes()
    kept = lines(project)
    assert production_head(pg)[1] == len(kept) == 3
    head_before = production_head(pg)

    audit_path(project).write_bytes(b"".join(line + b"\n" for line in kept[:-1]))  # "applied" removed
    assert migguard(project, "audit", "verify").returncode == 0  # the chain alone cannot tell
    against = migguard(project, "audit", "verify", "--prod")  # production's head can
    assert against.returncode == 1 and "the newest entries were removed" in against.stdout
    dry = migguard(project, "apply")
    live = migguard(project, "apply", "--confirm-live")
    for result in (dry, live):
        assert result.returncode == 4 and "it ends at line 2: the newest entries were removed" in result.stderr
    assert production_head(pg) == head_before

    # A careful forger rewrites the last entry with a valid prev and own hash.
    forged = json.loads(kept[-1])
    forged["result"] = "failed"
    del forged["hash"]
    forged["hash"] = sha(json.dumps(forged, ensure_ascii=False, separators=(",", ":")).encode())
    audit_path(project).write_bytes(original.replace(kept[-1], json.dumps(
        forged, ensure_ascii=False, separators=(",", ":")).encode()))
    assert verify(audit_path(project)).ok
    live = migguard(project, "apply", "--confirm-live")
    assert live.returncode == 4 and "its line 3 is not the entry production recorded" in live.stderr

    os.rename(audit_path(project), project.root / "elsewhere.jsonl")
    missing = migguard(project, "apply", "--confirm-live")
    assert missing.returncode == 4 and "missing or empty" in missing.stderr
    assert "one per production" in missing.stderr
    assert applied(pg) == ["0001"] and "note" not in columns(pg) and production_head(pg) == head_before

    audit_path(project).write_bytes(original)  # the genuine log is back: live runs are allowed again
    restored = migguard(project, "apply", "--confirm-live")
    assert restored.returncode == 0, restored.stderr
    assert applied(pg) == ["0001", "0002"]
    assert verify(audit_path(project)).ok and production_head(pg)[1] == len(lines(project))
    held = migguard(project, "audit", "verify", "--prod")
    assert (held.returncode, held.stdout) == (0, "audit log OK: 5 entries; holds production's head (line 5)\n")
    assert SENTINEL not in audit_path(project).read_text() + against.stdout + against.stderr


def test_lockdown_counts_people_not_lock_contention_and_ignores_migguard_user(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_drop.sql", DROP_LEGACY)
    plan = str(saved_plan(project, "--allow-destructive"))
    with psycopg.connect(pg, autocommit=True) as other:  # another apply holds the migration lock
        other.execute("SELECT pg_advisory_lock(%s)", (advisory_key("migguard.schema_migrations"),))
        for _ in range(3):
            held = migguard(project, "apply", "--confirm-live", "--allow-destructive", "--plan", plan)
            assert held.returncode == 4 and "another apply is running" in held.stderr
    for _ in range(3):  # not locked out by the contention: these are refused by the gate, exit 1
        refused = migguard(project, "apply", "--confirm-live", "--plan", plan)
        assert refused.returncode == 1 and "--allow-destructive" in refused.stderr, refused.stderr
    for env in ({"MIGGUARD_USER": "someone-else"}, {"MIGGUARD_USER": "x", "USER": "x", "LOGNAME": "x"}):
        locked = migguard(project, "apply", "--confirm-live", "--allow-destructive", "--plan", plan, env=env)
        assert locked.returncode == 4 and f"locked for {lockdown_identity()} until" in locked.stderr
    assert applied(pg) == ["0001"] and "legacy_code" in columns(pg)
    log = audit_entries(project)
    kinds = [(e["result"], e["details"].get("reason_kind")) for e in log if e["result"] == "refused"]
    assert kinds == [("refused", "lock-held")] * 3 + [("refused", "gate")] * 3 + [("refused", "lockdown")] * 2
    assert {e["os_user"] + "@" + e["host"] for e in log} == {lockdown_identity()}
    assert [e["user"] for e in log if e["result"] == "refused"][-2:] == ["someone-else", "x"]
    assert not any(e["result"] == "started" for e in log[2:])  # nothing started: no backup, no write
    assert production_head(pg)[1] == len(log)


def test_failed_rollback_is_audited_with_the_real_error(project, pg):
    write(project, "0002_note.sql", ADD_NOTE)
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    with psycopg.connect(pg, autocommit=True) as conn:  # something in production now depends on the column
        conn.execute("CREATE VIEW account_notes AS SELECT id, note FROM accounts")
    failed = migguard(project, "rollback", "--confirm-live")
    assert failed.returncode == 3, failed.stderr
    assert applied(pg) == ["0001", "0002"] and "note" in columns(pg)
    started, final = audit_entries(project)[-2:]
    assert (started["command"], started["result"], started["migrations"]) == ("rollback", "started", ["0002"])
    assert final["result"] == "failed" and final["details"]["failed"] == "0002"
    assert "other objects depend on it" in final["details"]["error"]
    assert verify(audit_path(project)).ok and production_head(pg)[1] == len(lines(project))


def test_history_table_with_quoted_names(pg):
    qualified = '"Mig Guard"."History.v1"'
    with psycopg.connect(pg) as conn:
        assert read_applied(conn, qualified) == []
        ensure_table(conn, qualified)
        record(conn, qualified, AppliedMigration("0001", "a", "c", None, None, datetime.now(UTC), 1))
        conn.commit()
        assert [r.version for r in read_applied(conn, qualified)] == ["0001"]
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,)).fetchone()[0]
        ensure_table(conn, "Mig_Guard.Unquoted")  # unquoted parts fold to lower case, as in SQL
        assert conn.execute("SELECT to_regclass('mig_guard.unquoted') IS NOT NULL").fetchone()[0]
