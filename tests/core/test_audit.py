"""The audit log as it sits on disk: real files, real concurrent processes, the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from migguard.core.audit import (
    GENESIS,
    AuditLog,
    check_not_locked,
    current_user,
    lockdown_identity,
    verify,
)
from migguard.core.errors import LiveRefused
from migguard.core.exit_codes import ExitCode
from tests.clirun import Result, run_cli

SENTINEL = "S3ntinel-pw-7731"
T0 = datetime(2024, 1, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def log_path(tmp_path) -> Path:
    return tmp_path / "nested" / "dir" / "audit.jsonl"


def _fill(path: Path, count: int = 5) -> AuditLog:
    log = AuditLog(path)
    for i in range(count):
        log.append("apply", result="applied", target="postgresql://app@db/prod", fingerprint=f"fp{i}",
                   migrations=[f"000{i}_m"], details={"step": i})
    return log


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def _rehash(entry: dict) -> bytes:
    """An entry re-serialised as migguard would, with a recomputed own hash (a careful forger)."""
    entry = {k: v for k, v in entry.items() if k != "hash"}
    content = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    entry["hash"] = hashlib.sha256(content).hexdigest()
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()


# --- writing -------------------------------------------------------------------------------------

def test_entries_are_chained_and_complete(log_path, monkeypatch):
    monkeypatch.delenv("MIGGUARD_USER", raising=False)
    log = _fill(log_path, 3)
    lines = _lines(log_path)
    entries = [json.loads(line) for line in lines]
    assert entries[0]["prev"] == GENESIS
    assert entries[1]["prev"] == hashlib.sha256(lines[0]).hexdigest()
    assert entries[2]["prev"] == hashlib.sha256(lines[1]).hexdigest()
    first = entries[0]
    assert {"time", "user", "host", "command", "target", "fingerprint", "migrations", "result", "backup_path",
            "backup_sha256", "tenant", "details", "prev", "hash"} <= first.keys()
    assert first["user"] == current_user() and first["command"] == "apply" and first["migrations"] == ["0000_m"]
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert list(log.entries()) == entries
    assert verify(log_path) == verify(str(log_path))
    assert verify(log_path).ok and verify(log_path).entries == 3


def test_file_is_private_and_parents_are_created(log_path):
    AuditLog(log_path).append("apply", result="dry-run")
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600


def test_ci_identity_overrides_the_login_and_keeps_it(log_path, monkeypatch):
    monkeypatch.setenv("MIGGUARD_USER", "ci:deploy-bot")
    entry = AuditLog(log_path).append("apply", result="applied")
    assert entry["user"] == "ci:deploy-bot"
    assert entry["os_user"] != "ci:deploy-bot"


def test_unknown_result_is_a_bug_not_a_silent_entry(log_path):
    with pytest.raises(ValueError, match="unknown audit result"):
        AuditLog(log_path).append("apply", result="refuse")
    assert not log_path.exists()


def test_secrets_never_reach_the_file(log_path):
    log = AuditLog(log_path)
    log.append(
        "apply", result="failed",
        target=f"postgresql://app:{SENTINEL}@db.internal:5432/prod",
        backup_path=Path("/backups/x.dump"),
        details={"error": f'connection to "host=db password={SENTINEL}" failed',
                 "nested": [{"dsn": f"postgres://u:{SENTINEL}@h/db"}, (f"PGPASSWORD={SENTINEL}",)],
                 "password": SENTINEL, "when": T0, "ratio": float("nan")},
    )
    data = log_path.read_bytes()
    assert SENTINEL.encode() not in data
    entry = json.loads(data)
    assert entry["target"] == "postgresql://app:***@db.internal:5432/prod"
    assert entry["details"]["password"] == "***"
    assert entry["details"]["nested"][0]["dsn"] == "postgres://u:***@h/db"
    assert verify(log_path).ok


def test_undecodable_file_name_is_escaped_not_a_crash(log_path):
    AuditLog(log_path).append("apply", result="applied", migrations=["0001_\udcff.sql"])
    assert verify(log_path).ok


def test_append_after_a_torn_write_keeps_the_evidence(log_path):
    log = _fill(log_path, 2)
    with log_path.open("ab") as handle:
        handle.write(b'{"time":"2024-01')  # a crash mid-write
    log.append("apply", result="applied")
    result = verify(log_path)
    assert (result.ok, result.broken_line) == (False, 3)
    assert len(_lines(log_path)) == 4


def _append_many(path: str, count: int, worker: str) -> subprocess.Popen:
    code = ("import sys; from migguard.core.audit import AuditLog\n"
            "log = AuditLog(sys.argv[1])\n"
            "for i in range(int(sys.argv[2])): log.append('query', result='query', details={'w': sys.argv[3], 'i': i})\n")
    return subprocess.Popen([sys.executable, "-c", code, path, str(count), worker])


def test_concurrent_processes_keep_the_chain(log_path):
    log_path.parent.mkdir(parents=True)
    workers = [_append_many(str(log_path), 50, name) for name in ("a", "b")]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    result = verify(log_path)
    assert result.ok, result
    assert result.entries == 100
    written = {(e["details"]["w"], e["details"]["i"]) for e in AuditLog(log_path).entries()}
    assert len(written) == 100


def test_live_run_leaves_started_then_the_real_error(log_path):
    from migguard.core.errors import DatabaseError

    log = AuditLog(log_path)
    with pytest.raises(DatabaseError), log.live_run("rollback", target="postgresql://app@db/prod", migrations=["0002"]):
        raise DatabaseError("restoring public.child from the backup failed: violates foreign key constraint")
    with pytest.raises(KeyboardInterrupt), log.live_run("apply", migrations=["0003"]):
        raise KeyboardInterrupt
    with log.live_run("apply", migrations=["0004"]):  # the block wrote its own final entry: nothing added
        log.append("apply", result="applied", migrations=["0004"])
    results = [(e["command"], e["result"], e["migrations"], e["details"].get("error")) for e in log.entries()]
    assert results == [
        ("rollback", "started", ["0002"], None),
        ("rollback", "failed", ["0002"], "restoring public.child from the backup failed: violates foreign key constraint"),
        ("apply", "started", ["0003"], None), ("apply", "failed", ["0003"], "KeyboardInterrupt"),
        ("apply", "started", ["0004"], None), ("apply", "applied", ["0004"], None)]
    assert verify(log_path).ok


def test_a_refusal_inside_a_live_run_is_recorded_once_with_its_kind(log_path):
    from migguard.core.errors import LockHeld

    log = AuditLog(log_path)
    refusal = LiveRefused("backup failed, nothing was applied: pg_dump: error")
    with pytest.raises(LiveRefused):
        try:
            with log.live_run("apply"):
                raise refusal
        except LiveRefused as refused:
            log.refused("apply", refused)  # what command.py's outer handler does
            raise
    log.refused("apply", LockHeld("another apply is running"))
    found = [(e["result"], e["details"]["reason_kind"]) for e in log.entries() if e["result"] == "refused"]
    assert found == [("refused", "refused-live"), ("refused", "lock-held")]


# --- verify --------------------------------------------------------------------------------------

def test_missing_and_empty_logs_are_ok(tmp_path):
    missing = verify(tmp_path / "none.jsonl")
    assert (missing.ok, missing.entries, missing.broken_line) == (True, 0, None)
    assert "no audit log" in missing.reason
    (tmp_path / "empty.jsonl").write_bytes(b"")
    empty = verify(tmp_path / "empty.jsonl")
    assert (empty.ok, empty.entries, empty.broken_line) == (True, 0, None)


def test_edited_field_is_reported_at_the_edited_line(log_path):
    _fill(log_path)
    lines = _lines(log_path)
    lines[1] = lines[1].replace(b'"result":"applied"', b'"result":"dry-run"')
    _write_lines(log_path, lines)
    result = verify(log_path)
    assert (result.ok, result.entries, result.broken_line) == (False, 1, 2)
    assert "edited" in result.reason


def test_edit_with_recomputed_hash_breaks_the_next_link(log_path):
    _fill(log_path)
    lines = _lines(log_path)
    entry = json.loads(lines[1])
    entry["result"] = "dry-run"
    lines[1] = _rehash(entry)
    _write_lines(log_path, lines)
    result = verify(log_path)
    assert (result.ok, result.broken_line) == (False, 3)
    assert "line 2" in result.reason


def test_edited_last_line_is_caught(log_path):
    _fill(log_path, 3)
    lines = _lines(log_path)
    lines[2] = lines[2].replace(b'"fp2"', b'"fp9"')
    _write_lines(log_path, lines)
    assert verify(log_path).broken_line == 3


@pytest.mark.parametrize("deleted", [0, 1, 3])
def test_deleted_line_breaks_the_chain_where_the_next_one_now_sits(log_path, deleted):
    _fill(log_path)
    lines = _lines(log_path)
    del lines[deleted]
    _write_lines(log_path, lines)
    result = verify(log_path)
    assert (result.ok, result.broken_line) == (False, deleted + 1)
    assert result.entries == deleted


def test_inserted_line_is_caught(log_path):
    _fill(log_path)
    lines = _lines(log_path)
    # The forger knows the scheme: the forged line links to line 1 and carries a valid own hash.
    forged = json.loads(lines[1])
    forged.update(result="rolled-back", prev=hashlib.sha256(lines[0]).hexdigest())
    lines.insert(1, _rehash(forged))
    _write_lines(log_path, lines)
    result = verify(log_path)
    assert (result.ok, result.broken_line) == (False, 3)


def test_inserted_naive_line_is_caught_where_it_is(log_path):
    _fill(log_path)
    lines = _lines(log_path)
    lines.insert(1, b'{"time":"2024-01-22T10:00:00Z","user":"x","command":"apply","result":"applied"}')
    _write_lines(log_path, lines)
    assert verify(log_path).broken_line == 2


def test_truncated_line_is_caught(log_path):
    _fill(log_path)
    data = log_path.read_bytes()
    log_path.write_bytes(data[: len(data) - 40])
    result = verify(log_path)
    assert (result.ok, result.broken_line) == (False, 5)
    assert "JSON" in result.reason


def test_blank_line_is_caught(log_path):
    _fill(log_path)
    lines = _lines(log_path)
    lines.insert(2, b"")
    _write_lines(log_path, lines)
    assert verify(log_path).broken_line == 3


# --- lockdown ------------------------------------------------------------------------------------

def _refuse(log: AuditLog, at: datetime, **details) -> None:
    log.append("apply", result="refused", details={"live": True, **details}, at=at)


ME = lockdown_identity()  # OS login @ host: lockdown counts by it, whatever MIGGUARD_USER says


@pytest.fixture
def log(log_path, monkeypatch) -> AuditLog:
    monkeypatch.setenv("MIGGUARD_USER", "alice")
    return AuditLog(log_path)


def test_lockdown_after_threshold_within_the_window(log):
    for minutes in (0, 5, 10):
        _refuse(log, T0 + timedelta(minutes=minutes))
    assert log.locked_until(ME, T0 + timedelta(minutes=9), 3) is None  # only two so far
    until = log.locked_until(ME, T0 + timedelta(minutes=10), 3)
    assert until == T0 + timedelta(minutes=25)
    assert log.locked_until(ME, T0 + timedelta(minutes=24, seconds=59), 3) == until
    assert log.locked_until(ME, T0 + timedelta(minutes=25), 3) is None
    assert log.locked_until("bob@elsewhere", T0 + timedelta(minutes=10), 3) is None
    assert len(log.refusals_since(ME, T0 + timedelta(minutes=5))) == 2


def test_refusals_spread_wider_than_the_window_do_not_lock(log):
    for minutes in (0, 10, 20, 30):
        _refuse(log, T0 + timedelta(minutes=minutes))
    for minutes in (20, 30, 31):
        assert log.locked_until(ME, T0 + timedelta(minutes=minutes), 3) is None


def test_only_refused_live_operations_count(log):
    for minutes in (0, 1, 2):
        log.append("apply", result="refused", details={"live": False}, at=T0 + timedelta(minutes=minutes))
        log.append("lint", result="refused", at=T0 + timedelta(minutes=minutes))
        log.append("apply", result="failed", details={"live": True}, at=T0 + timedelta(minutes=minutes))
    assert log.locked_until(ME, T0 + timedelta(minutes=3), 3) is None
    for minutes in (3, 4, 5):
        log.append("rollback", result="refused", details={"confirm_live": True}, at=T0 + timedelta(minutes=minutes))
    assert log.locked_until(ME, T0 + timedelta(minutes=6), 3) == T0 + timedelta(minutes=20)


def test_refusals_by_the_lockdown_itself_do_not_extend_it(log):
    for minutes in (0, 1, 2):
        _refuse(log, T0 + timedelta(minutes=minutes))
    for minutes in (5, 10, 16):
        _refuse(log, T0 + timedelta(minutes=minutes), lockdown=True)
    assert log.locked_until(ME, T0 + timedelta(minutes=16), 3) == T0 + timedelta(minutes=17)
    assert log.locked_until(ME, T0 + timedelta(minutes=18), 3) is None


def test_a_new_ci_identity_does_not_lift_the_lockdown(log, monkeypatch):
    for minutes in (0, 1, 2):
        _refuse(log, T0 + timedelta(minutes=minutes))
    monkeypatch.setenv("MIGGUARD_USER", "someone-else")
    monkeypatch.setenv("USER", "someone-else")  # nor does the login name the environment claims
    monkeypatch.setenv("LOGNAME", "someone-else")
    assert lockdown_identity() == ME
    assert log.locked_until(lockdown_identity(), T0 + timedelta(minutes=3), 3) == T0 + timedelta(minutes=17)


@pytest.mark.parametrize("kind", ["lock-held", "audit-broken", "lockdown", "preflight"])
def test_refusals_no_person_caused_do_not_count(log, kind):
    for minutes in (0, 1, 2, 3):
        _refuse(log, T0 + timedelta(minutes=minutes), reason_kind=kind)
    assert log.locked_until(ME, T0 + timedelta(minutes=4), 3) is None


def test_a_privilege_production_lacks_is_recorded_as_a_preflight_refusal():
    from migguard.core.audit import refusal_details
    from migguard.pg.preflight import PreflightRefused

    details = refusal_details(PreflightRefused("what apply needs", "app_owner", ["BYPASSRLS (the backup)"]))
    assert details["reason_kind"] == "preflight"
    assert "role app_owner lacks BYPASSRLS" in details["reason"]


def test_check_not_locked_raises_exit_4_with_the_time(log):
    for minutes in (0, 1, 2):
        _refuse(log, T0 + timedelta(minutes=minutes))
    check_not_locked(log, ME, 4, now=T0 + timedelta(minutes=3))
    with pytest.raises(LiveRefused) as raised:
        check_not_locked(log.path, ME, 3, now=T0 + timedelta(minutes=3))
    assert raised.value.exit_code == ExitCode.REFUSED_LIVE == 4
    assert "until 2024-01-22 10:17:00 UTC" in raised.value.message
    assert "\n" not in raised.value.message
    check_not_locked(log, ME, 3, now=T0 + timedelta(minutes=17))
    check_not_locked(log, ME, 3)  # now: long after 2024


# --- CLI -----------------------------------------------------------------------------------------

def _cli(*args: str, cwd: Path) -> Result:
    env = {k: v for k, v in os.environ.items() if k not in ("PG_PROD_URL", "PG_SHADOW_URL")}
    return run_cli(["audit", "verify", *args], cwd=cwd, env=env)


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "migguard.toml").write_text('audit_log = "var/audit.jsonl"\n')
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_cli_verifies_the_configured_log(project):
    _fill(project / "var" / "audit.jsonl", 4)
    done = _cli(cwd=project / "sub")  # the log is found relative to the config, not the working directory
    assert (done.returncode, done.stdout, done.stderr) == (ExitCode.OK, "audit log OK: 4 entries\n", "")


def test_cli_reports_the_broken_line(project):
    path = project / "var" / "audit.jsonl"
    _fill(path, 4)
    lines = _lines(path)
    del lines[1]
    _write_lines(path, lines)
    done = _cli(cwd=project)
    assert done.returncode == ExitCode.GATE_REFUSED == 1
    assert done.stdout.startswith("audit log broken at line 2: ")
    assert done.stdout.count("\n") == 1 and done.stderr == ""


def test_cli_log_option_and_missing_log(project):
    other = project / "elsewhere.jsonl"
    _fill(other, 2)
    done = _cli("--log", "elsewhere.jsonl", cwd=project)
    assert (done.returncode, done.stdout) == (0, "audit log OK: 2 entries\n")
    done = _cli("--log", "absent.jsonl", cwd=project)
    assert done.returncode == 0
    assert done.stdout.startswith("audit log OK: 0 entries") and done.stdout.count("\n") == 1


def test_cli_unreadable_log_is_one_error_line(project):
    done = _cli("--log", str(project), cwd=project)  # a directory
    assert done.returncode == ExitCode.USAGE
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("migguard: error: cannot read audit log")
