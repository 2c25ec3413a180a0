"""What a live run checks in the audit log before anything else, and the head of the chain it keeps
in production so that a truncated or re-forged log is noticed.

The head (`LogHead`: which log, how many lines, the SHA-256 of the last line) is recorded in
`<history schema>.audit_head`, one row per history table, i.e. per production: the audit log is
one per production. Every entry a live run appends moves the head forward in its own short
transaction, and only when the local log still verifies and still holds the head recorded
before, so tampering during a run is never blessed. Before anything else a live run (and a dry
run, read only) refuses with exit 4 when the log fails `verify`, or does not hold production's
head at the recorded line: its newest entries were removed, its tail was re-forged, or it is
another machine's log. A missing head (the first live run) is recorded by the first append.
Entries written after the last live run (dry runs, queries) are covered by the next live run's head.

Recovery is deliberate and audited: `migguard audit restart --reason TEXT --confirm-live` moves
the damaged log aside (kept as evidence), starts a new log whose first entry records the reason,
the old log's verification and production's old head, and points production's head at it. It
is refused while the caller is locked down, and when the log is healthy.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql

from migguard.core.audit import (
    AuditLog,
    LogHead,
    check_not_locked,
    lockdown_identity,
    refusal_details,
    verify,
)
from migguard.core.errors import (
    AuditBroken,
    DatabaseError,
    InputError,
    LiveRefused,
    MigguardError,
)
from migguard.core.redact import redact_text
from migguard.pg import scope
from migguard.pg.connect import connect, describe
from migguard.pg.history import history_schema, table_exists

HEAD_TABLE = "audit_head"
RECOVERY = "migguard audit restart --reason TEXT --confirm-live"


@dataclass(frozen=True, slots=True)
class StoredHead:
    """The head production recorded, and who wrote it when (for the messages)."""

    head: LogHead
    updated_at: datetime
    updated_by: str | None


def _table(history_table: str) -> sql.Identifier:
    return sql.Identifier(history_schema(history_table), HEAD_TABLE)


def read_head(conn: psycopg.Connection, history_table: str, *, for_update: bool = False) -> StoredHead | None:
    """Production's head for this history, or None before the first live run recorded one."""
    if not table_exists(conn, history_schema(history_table), HEAD_TABLE):
        return None
    row = conn.execute(sql.SQL("SELECT log_id, lines, head, updated_at, updated_by FROM {} WHERE history_table = %s"
                               + (" FOR UPDATE" if for_update else "")).format(_table(history_table)),
                       (history_table,)).fetchone()
    return None if row is None else StoredHead(LogHead(row[0], int(row[1]), row[2]), row[3], row[4])


def write_head(conn: psycopg.Connection, history_table: str, head: LogHead, *, force: bool = False) -> None:
    """Record `head`; unless `force`, never move it backwards or onto another log."""
    schema = history_schema(history_table)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (history_table text PRIMARY KEY, log_id text NOT NULL,"
        " lines bigint NOT NULL, head text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), updated_by text)"
    ).format(_table(history_table)))
    guard = sql.SQL("" if force else " WHERE {t}.log_id = EXCLUDED.log_id AND {t}.lines <= EXCLUDED.lines").format(
        t=sql.Identifier(HEAD_TABLE))
    conn.execute(sql.SQL(
        "INSERT INTO {} AS {} (history_table, log_id, lines, head, updated_by) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (history_table) DO UPDATE SET log_id = EXCLUDED.log_id, lines = EXCLUDED.lines,"
        " head = EXCLUDED.head, updated_at = now(), updated_by = EXCLUDED.updated_by{}"
    ).format(_table(history_table), sql.Identifier(HEAD_TABLE), guard),
        (history_table, head.log_id, head.lines, head.head, lockdown_identity()))


def head_problem(log: AuditLog, stored: StoredHead | None) -> str | None:
    """Why the local log does not hold production's head (None when it does, or there is none yet)."""
    if stored is None:
        return None
    expected = stored.head
    lines = log.lines()
    recorded = (f"production's audit head is line {expected.lines} (sha256 {expected.head[:12]}…, "
                f"written by {stored.updated_by or 'unknown'} at {stored.updated_at:%Y-%m-%d %H:%M:%S %Z})")
    if not lines:
        problem = "the log is missing or empty"
    elif _sha256(lines[0]) != expected.log_id:
        problem = "it is another log (its first line differs): another machine's log, or a forged one"
    elif len(lines) < expected.lines:
        problem = f"it ends at line {len(lines)}: the newest entries were removed"
    elif _sha256(lines[expected.lines - 1]) != expected.head:
        problem = f"its line {expected.lines} is not the entry production recorded: the log was re-forged"
    else:
        return None
    return (f"the audit log {log.path} does not hold the entries production recorded: {problem}; {recorded}. "
            f"The audit log is one per production: use the log that recorded them, or after investigating "
            f"run `{RECOVERY}`")


def _sha256(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def check_log(log: AuditLog, url: str, history_table: str) -> AuditLog:
    """Raise AuditBroken (exit 4) when the log fails verification or does not hold production's head;
    return the log. Reads production only; a dry run calls this as the live run would."""
    result = verify(log.path)
    if not result.ok:
        raise AuditBroken(
            f"the audit log {log.path} is broken at line {result.broken_line} ({result.reason}): live runs are "
            f"refused until it is investigated; keep it as evidence, then run `{RECOVERY}` (it moves the log aside "
            f"and starts a new one)")
    problem = head_problem(log, production_head(url, history_table))
    if problem:
        raise AuditBroken(problem)
    return log


def production_head(url: str, history_table: str) -> StoredHead | None:
    """Production's head, read in a transaction that writes nothing."""
    with connect(url) as conn:
        try:
            return read_head(conn, history_table)
        except psycopg.Error as error:
            raise DatabaseError(f"cannot read production's audit head: {describe(error)}") from None
        finally:
            conn.rollback()


class ProductionBoundLog(AuditLog):
    """An audit log whose every append also moves production's head forward (see the module docs)."""

    def __init__(self, path: str | os.PathLike[str], url: str, history_table: str) -> None:
        super().__init__(path)
        self.url = url
        self.history_table = history_table

    def append(self, command: str, **fields) -> dict:
        entry = super().append(command, **fields)
        self.advance_head()
        return entry

    def advance_head(self) -> bool:
        """Record the log's head in production; False when it could not (or must not) be recorded.

        A head left behind is safe: the next live run still finds production's head inside the
        log, so a production that cannot be reached right now never turns an apply into a failure."""
        try:
            with connect(self.url, connect_timeout=5) as conn, conn.transaction():
                stored = read_head(conn, self.history_table, for_update=True)
                if not verify(self.path).ok or head_problem(self, stored):
                    return False  # tampered since the run began: the next live run refuses
                head = self.head()
                if head is None:  # the log vanished since the append: the next live run refuses
                    return False
                write_head(conn, self.history_table, head)
            return True
        except (MigguardError, psycopg.Error):
            return False


def audit_target(url: str) -> str:
    """The audit's `target`: production's URL redacted, and for a tenant's run (pg/scope.py) its
    schema, so entries for tenants of one database tell them apart."""
    schema = scope.current()
    return redact_text(url) if schema is None else f"{redact_text(url)} schema {schema}"


def guard_live(log: AuditLog, command: str, url: str, history_table: str, threshold: int) -> ProductionBoundLog:
    """The first thing a live run does: the log verifies and holds production's head, and the
    caller is not locked down (exit 4 otherwise, audited). Returns the log to append to from now on."""
    target = audit_target(url)
    try:
        check_log(log, url, history_table)
    except AuditBroken as broken:
        log.append(command, result="refused", target=target, details=refusal_details(broken))
        raise
    bound = ProductionBoundLog(log.path, url, history_table)
    try:
        check_not_locked(bound, lockdown_identity(), threshold)
    except LiveRefused as refused:
        bound.append(command, result="refused", target=target,
                     details={**refusal_details(refused), "reason_kind": "lockdown", "lockdown": True})
        raise
    return bound


@dataclass
class RestartOutcome:
    live: bool
    text: str
    moved_to: Path | None = None


def restart(log: AuditLog, url: str, history_table: str, reason: str, threshold: int,
            confirm_live: bool) -> RestartOutcome:
    """Replace a damaged audit log (or one production's head disowns) with a new one; see the module docs."""
    from migguard.apply.runner import ApplyLock

    if not reason.strip():
        raise InputError("audit restart needs --reason: say what was investigated and why a new log is started")
    result = verify(log.path)
    stored = production_head(url, history_table)
    problem = None if not result.ok else head_problem(log, stored)
    if result.ok and problem is None:
        raise InputError(f"the audit log {log.path} verifies and holds production's head: nothing to restart")
    check_not_locked(log, lockdown_identity(), threshold)
    state = (f"broken at line {result.broken_line} ({result.reason})" if not result.ok else problem)
    moved = log.path.with_name(f"{log.path.name}.replaced-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    exists = log.path.exists()
    plan = (f"audit log {log.path}: {state}\n"
            + (f"move it aside to {moved}\n" if exists else "")
            + f"start a new log at {log.path} and record its head in production ({redact_text(url)})\n")
    if not confirm_live:
        return RestartOutcome(False, "-- DRY RUN: nothing is changed; with --confirm-live migguard would:\n" + plan)
    with ApplyLock(url, history_table):
        if exists:
            try:
                os.replace(log.path, moved)
            except OSError as error:
                raise InputError(f"cannot move the audit log aside to {moved}: {error.strerror}") from None
        fresh = AuditLog(log.path)
        fresh.append("audit restart", result="restarted", target=redact_text(url), details={
            "live": True, "reason": reason, "replaced": str(moved) if exists else None,
            "replaced_state": state,
            "production_head": None if stored is None else {
                "log_id": stored.head.log_id, "lines": stored.head.lines, "head": stored.head.head,
                "updated_by": stored.updated_by, "updated_at": stored.updated_at}})
        try:
            with connect(url) as conn, conn.transaction():
                write_head(conn, history_table, fresh.head(), force=True)
        except psycopg.Error as error:
            raise DatabaseError(f"started a new audit log, but production's head could not be recorded: "
                                f"{describe(error)}") from None
    return RestartOutcome(True, plan, moved if exists else None)
