"""Apply migrations to production: one transaction each, under lock and statement timeouts,
recorded in the history table in that same transaction, retried when the lock timeout fires.
A file wrapped whole in a plain `BEGIN; … COMMIT;` runs its body in that transaction (the wrapper
itself does not run: it would end migguard's transaction before the history record).

Before anything runs, each migration is read once and checked: its bytes against the checksum
the gates saw (`expected_checksums`), and the lock_timeout / statement_timeout it sets against the
configured ceiling. Those bytes, and no others, are what runs.

A migration with CONCURRENTLY cannot run in a transaction: it runs statement by statement, and
each statement that ran is recorded in the progress table beside the history (`progress.py`), in
the same transaction as a statement that can run in one, right after one that cannot. A retry
after a lock timeout, and a later apply after a failure, continue at the statement that failed;
session settings (SET, RESET) leave nothing behind and run again each time. The history records
the migration only once every statement ran. A failure names the statements that stayed applied
and how to undo them; it never calls them rolled back. Each CREATE INDEX CONCURRENTLY first
removes an INVALID index of the same name that an earlier failed attempt left behind (and is
skipped when a valid one exists).
The session also asks the server to notice a vanished client (client_connection_check_interval),
so a killed apply does not leave a backend holding locks until its statement finishes.
"""

from __future__ import annotations

import getpass
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg
from psycopg import sql

from migguard.core.errors import DatabaseError, GateRefused, LockHeld
from migguard.core.session import above_ceiling, is_session_setting, timeout_settings
from migguard.core.sources import Migration, checksum
from migguard.lint.context import is_transaction_end, is_transaction_start
from migguard.pg import progress as progress_table
from migguard.pg.connect import connect, describe
from migguard.pg.history import AppliedMigration, ensure_table, record, table_identifier
from migguard.pg.progress import DoneStatement, statement_hash
from migguard.sql.parse import Statement, created_index, parse_file
from migguard.sql.transactions import transaction_text

Sleep = Callable[[float], None]


@dataclass
class RunResult:
    applied: list[str] = field(default_factory=list)
    failed: str | None = None
    error: str | None = None
    retries: int = 0
    # Statements of the failed migration that ran and stay applied (statement by statement only).
    stayed_applied: list[DoneStatement] | None = field(default_factory=list)  # None: could not be read


class MigrationError(DatabaseError):
    """A migration failed; the migrations before it stay applied, and the message says exactly
    what of the failed one stayed applied (nothing, when it ran in one transaction)."""

    def __init__(self, migration: Migration, message: str, result: RunResult) -> None:
        self.migration = migration
        self.result = result
        super().__init__(message)


class _Failed(Exception):
    """A migration failed: at which statement (None: in its one transaction, or, statement by statement,
    while recording it in the history after its last statement) and why."""

    def __init__(self, statement: Statement | None, error: psycopg.Error | str, by_statement: bool = True) -> None:
        self.statement = statement
        self.error = error
        self.by_statement = by_statement


def advisory_key(history_table: str) -> int:
    """A stable 63-bit key derived from the history table's name (one lock per history)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(f"migguard:{history_table}".encode()).digest()[:8], "big") >> 1


class ApplyLock:
    """The session advisory lock that keeps two applies apart; a second one fails at once (exit 4)."""

    def __init__(self, url: str, history_table: str) -> None:
        self.url = url
        self.key = advisory_key(history_table)
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> ApplyLock:
        self.conn = connect(self.url, autocommit=True)
        got = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]
        if not got:
            holder = self.conn.execute(
                "SELECT a.usename, a.application_name, a.pid, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s LIMIT 1", (self.key,)).fetchone()
            self.conn.close()
            who = (f"{holder[0]} ({holder[1] or 'unknown client'}, backend {holder[2]}, since "
                   f"{holder[3]:%Y-%m-%d %H:%M:%S %Z})") if holder else "another session"
            raise LockHeld(f"another apply is running: {who} holds the migration lock; try again when it is done")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            try:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except psycopg.Error:
                pass
            self.conn.close()


@dataclass
class Runner:
    url: str
    history_table: str
    lock_timeout: str = "2s"
    statement_timeout: str = "15min"
    lock_retries: int = 5
    fingerprint: str | None = None
    applied_by: str = field(default_factory=getpass.getuser)
    sleep: Sleep = time.sleep
    progress: Callable[[str], None] = lambda _: None
    backoff_base: float = 0.5
    # version → checksum of the bytes the gates checked; a migration whose bytes differ is refused.
    expected_checksums: Mapping[str, str] | None = None
    # The longest timeouts a migration may set itself (config max_*); None: lock_timeout / statement_timeout.
    max_lock_timeout: str | None = None
    max_statement_timeout: str | None = None

    def run(self, migrations: list[Migration]) -> RunResult:
        """Apply each migration in order; stop at the first failure (raising MigrationError).

        Each file is read once, here; the checksum, ceiling and progress checks are of that text, and that
        text is what runs, so checking every migration before the first one runs is checking each "just
        before it runs", and a refusal (GateRefused, exit 1) leaves production untouched."""
        texts = {m.version: m.up_sql() for m in migrations}  # read once: these bytes are checked and run
        parsed = {m.version: parse_file(texts[m.version]).statements for m in migrations}
        for migration in migrations:
            self._check_bytes(migration, texts[migration.version])
            self._check_timeouts(migration, parsed[migration.version])
        result = RunResult()
        with connect(self.url, autocommit=True) as conn:
            self._session(conn)
            with conn.transaction():
                ensure_table(conn, self.history_table)
                progress_table.ensure_table(conn, self.history_table)
            recorded = progress_table.read(conn, self.history_table)
            for migration in migrations:
                self._check_progress(migration, parsed[migration.version], recorded.get(migration.version, {}))
            for migration in migrations:
                self._apply_with_retries(conn, migration, texts[migration.version], parsed[migration.version], result)
                result.applied.append(migration.version)
        return result

    # --- checks before anything runs -------------------------------------------------------------

    def _check_bytes(self, migration: Migration, text: str) -> None:
        if self.expected_checksums is None:
            return
        expected = self.expected_checksums.get(migration.version)
        if expected is None or checksum(text) != expected:
            what = "was not among the migrations the gates checked" if expected is None else (
                "changed since the gates checked it (its bytes no longer match the checksum they saw)")
            raise GateRefused(f"migration {migration.version} ({migration.up.name}) {what}: refused before it ran; "
                              "plan and apply again")

    def _check_timeouts(self, migration: Migration, statements: tuple[Statement, ...]) -> None:
        ceilings = {"lock_timeout": self.max_lock_timeout or self.lock_timeout,
                    "statement_timeout": self.max_statement_timeout or self.statement_timeout}
        for statement in statements:
            for setting in timeout_settings(statement.text):
                problem = above_ceiling(setting, ceilings.get(setting.name, ceilings["lock_timeout"]))
                if problem:
                    raise GateRefused(
                        f"migration {migration.version} ({migration.up.name}) {_where(statement)} {problem}: refused "
                        f"before the migration ran (the ceiling is max_lock_timeout / max_statement_timeout in the "
                        f"configuration, else lock_timeout / statement_timeout)")

    def _check_progress(self, migration: Migration, statements: tuple[Statement, ...],
                        done: dict[int, DoneStatement]) -> None:
        """A part-way migration resumes only when every statement that ran is still the file's statement."""
        for number, row in sorted(done.items()):
            current = statements[number - 1] if number <= len(statements) else None
            if current is None or statement_hash(current.text) != row.statement_hash:
                now = f"is now {_where(current)}" if current is not None else "no longer exists"
                raise GateRefused(
                    f"migration {migration.version} ({migration.up.name}) ran part way in production, and its "
                    f"statement {number} (line {row.line}: {row.first_line}) {now}: migguard does not resume an "
                    f"edited migration. Restore the file as it ran, or undo the statements that ran and delete their "
                    f"rows from {progress_table.table_name(self.history_table)}")

    # --- running ---------------------------------------------------------------------------------

    def _session(self, conn: psycopg.Connection) -> None:
        if conn.info.server_version >= 140000:
            conn.execute("SET client_connection_check_interval = '1s'")

    def _apply_with_retries(self, conn: psycopg.Connection, migration: Migration, text: str,
                            statements: tuple[Statement, ...], result: RunResult) -> None:
        for attempt in range(self.lock_retries + 1):
            try:
                self._apply(conn, migration, text, statements)
                return
            except _Failed as failed:
                error, statement, by_statement = failed.error, failed.statement, failed.by_statement
            if isinstance(error, psycopg.errors.LockNotAvailable) and attempt < self.lock_retries:
                delay = self.backoff_base * (2 ** attempt) * (0.5 + random.random())  # exponential, with jitter
                result.retries += 1
                at = f" at {_where(statement)}" if statement is not None else ""
                self.progress(f"  {migration.version}: lock not available{at} ({self.lock_timeout}); "
                              f"retry {attempt + 1}/{self.lock_retries} in {delay:.1f}s")
                self.sleep(delay)
                continue
            cause = describe(error) if isinstance(error, psycopg.Error) else error
            result.failed, result.error = migration.version, cause
            if isinstance(error, psycopg.errors.LockNotAvailable):
                cause = f"lock_timeout {self.lock_timeout} fired {self.lock_retries + 1} times: {cause}"
            if not by_statement:
                raise MigrationError(migration, f"migration {migration.version} ({migration.up.name}) failed and "
                                                f"was rolled back: {cause}", result) from None
            result.stayed_applied = self._stayed_applied(conn, migration)
            raise MigrationError(migration, self._partial_failure(conn, migration, statement, cause, result),
                                 result) from None

    def _apply(self, conn: psycopg.Connection, migration: Migration, text: str,
               statements: tuple[Statement, ...]) -> None:
        done = progress_table.read(conn, self.history_table, migration.version).get(migration.version, {})
        self._check_progress(migration, statements, done)
        started, clock = datetime.now(timezone.utc), time.monotonic()
        if not done and not any(s.runs_concurrently for s in statements):
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(self.lock_timeout)))
                    conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(self.statement_timeout)))
                    body = transaction_text(text, statements)
                    if body:
                        conn.execute(body)
                    self._record(conn, migration, checksum(text), started, clock)
            except psycopg.Error as error:
                raise _Failed(None, error, by_statement=False) from None
            return
        self._apply_by_statement(conn, migration, text, statements, done, started, clock)

    def _apply_by_statement(self, conn: psycopg.Connection, migration: Migration, text: str,
                            statements: tuple[Statement, ...], done: dict[int, DoneStatement],
                            started: datetime, clock: float) -> None:
        """Statement by statement, outside a transaction, recording each statement that ran."""
        if done:
            ran = ", ".join(str(n) for n in sorted(done))
            resume = next((s.index + 1 for s in statements if s.index + 1 not in done), len(statements))
            self.progress(f"  {migration.version}: resuming at statement {resume} (statement(s) {ran} ran before "
                          f"and stay applied; they do not run again)")
        else:
            self.progress(f"  {migration.version}: CONCURRENTLY: statement by statement, outside a transaction, "
                          f"progress recorded per statement")
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(self.lock_timeout)))
        conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(self.statement_timeout)))
        current: Statement | None = None
        try:
            block: list[Statement] | None = None  # an explicit BEGIN … COMMIT of the file: recorded at its COMMIT
            for current in statements:
                if current.index + 1 in done:
                    continue
                if block is not None:
                    if is_transaction_end(current):
                        for ran in (*block, current):  # in the file's own transaction, committed with it
                            progress_table.record(conn, self.history_table, migration.version, _done(conn, ran),
                                                  self.applied_by)
                        conn.execute(current.text)
                        block = None
                    else:
                        conn.execute(current.text)
                        block.append(current)
                    continue
                if is_transaction_start(current):
                    conn.execute(current.text)
                    block = [current]
                elif is_session_setting(current.text):
                    conn.execute(current.text)  # leaves nothing behind: runs again on every attempt
                elif current.runs_concurrently:
                    created = self._prepare_concurrent_index(conn, current)
                    if created:
                        conn.execute(current.text)
                    with conn.transaction():  # right after: CONCURRENTLY cannot share a transaction
                        progress_table.record(conn, self.history_table, migration.version,
                                              _done(conn, current, undo=created), self.applied_by)
                else:
                    with conn.transaction():  # the statement and its record commit together, or neither
                        conn.execute(current.text)
                        progress_table.record(conn, self.history_table, migration.version, _done(conn, current),
                                              self.applied_by)
            if block is not None:
                self._end_open_transaction(conn)
                raise _Failed(block[0], "its BEGIN has no COMMIT in the file; the statements after it were rolled "
                                        "back (nothing of them stays applied)")
            current = None
            with conn.transaction():
                self._record(conn, migration, checksum(text), started, clock)
                progress_table.clear(conn, self.history_table, migration.version)
        except psycopg.Error as error:
            self._end_open_transaction(conn)
            raise _Failed(current, error) from None
        finally:
            if not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                conn.execute("RESET lock_timeout")
                conn.execute("RESET statement_timeout")

    @staticmethod
    def _end_open_transaction(conn: psycopg.Connection) -> None:
        """After a failure inside the file's own BEGIN: end the aborted transaction (nothing of it stays)."""
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                pass

    # --- after a failure part way --------------------------------------------------------------

    def _stayed_applied(self, conn: psycopg.Connection, migration: Migration) -> list[DoneStatement] | None:
        """The progress rows of the failed migration; None when the connection cannot read them any more."""
        try:
            rows = progress_table.read(conn, self.history_table, migration.version).get(migration.version, {})
        except psycopg.Error:
            return None
        return [rows[n] for n in sorted(rows)]

    def _partial_failure(self, conn: psycopg.Connection, migration: Migration, failed: Statement | None, cause: str,
                         result: RunResult) -> str:
        """Exactly what stayed applied, how to undo it, and how the next apply resumes."""
        table = progress_table.table_name(self.history_table)
        at = _where(failed) if failed is not None else "recording it in the history after its last statement"
        lines = [f"migration {migration.version} ({migration.up.name}) failed at {at}: {cause}"]
        leftover = self._invalid_leftover(conn, failed) if failed is not None else None
        if leftover:
            lines.append(f"the failed statement left the INVALID index {leftover} behind; the next apply drops it "
                         f"before building it again")
        elif failed is not None and not failed.runs_concurrently:
            lines.append(f"statement {failed.index + 1} ran in a transaction, which was rolled back")
        stayed = result.stayed_applied
        if stayed is None:
            lines.append(f"migguard cannot read which of its statements stayed applied (the connection failed): "
                         f"they are recorded in {table} in production; the migration is not recorded as applied")
            return "\n".join(lines)
        if not stayed:
            lines.append("no statement of this migration stayed applied, and it is not recorded as applied")
            return "\n".join(lines)
        numbers = ", ".join(str(row.number) for row in stayed)
        lines.append(f"statement(s) {numbers} of it ran before the failure and STAY APPLIED: each committed on its "
                     f"own (CONCURRENTLY cannot run in a transaction), so PostgreSQL cannot roll them back; they are "
                     f"recorded in {table}, and the migration is not recorded as applied")
        for row in stayed:
            if row.undo:
                lines.append(f"-- statement {row.number} (line {row.line}: {row.first_line}): undo with\n{row.undo};")
            else:
                lines.append(f"-- statement {row.number} (line {row.line}: {row.first_line}): migguard cannot derive "
                             f"its undo: it needs a hand-written one")
        resume = f"statement {failed.index + 1}" if failed is not None else "the history record"
        forget = sql.SQL("DELETE FROM {} WHERE version = {}").format(
            table_identifier(table), sql.Literal(migration.version)).as_string(None)
        lines.append(f"fix the cause and run apply again: it resumes at {resume} and does not run "
                     f"statement(s) {numbers} again (to start over instead, undo them and run: {forget};)")
        return "\n".join(lines)

    def _invalid_leftover(self, conn: psycopg.Connection, statement: Statement) -> str | None:
        """The INVALID index a failed CREATE INDEX CONCURRENTLY left behind, if there is one."""
        name = created_index(statement)
        if name is None or not statement.runs_concurrently or conn.closed:
            return None
        try:
            row = conn.execute("SELECT NOT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
                               (sql.Identifier(*name).as_string(conn),)).fetchone()
        except psycopg.Error:
            return None
        return ".".join(name) if row and row[0] else None

    def _prepare_concurrent_index(self, conn: psycopg.Connection, statement: Statement) -> bool:
        """Before CREATE INDEX CONCURRENTLY: drop an INVALID leftover; skip when a valid one exists."""
        name = created_index(statement)
        if name is None:
            return True
        qualified = sql.Identifier(*name)
        row = conn.execute("SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
                           (qualified.as_string(conn),)).fetchone()
        if row is None:
            return True
        if row[0]:
            self.progress(f"  index {'.'.join(name)} already exists and is valid: skipped")
            return False
        self.progress(f"  index {'.'.join(name)} is INVALID (an earlier attempt failed): dropping it first")
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(qualified))
        return True

    def _record(self, conn: psycopg.Connection, migration: Migration, text_checksum: str, started: datetime,
                clock: float) -> None:
        record(conn, self.history_table, AppliedMigration(
            migration.version, migration.name, text_checksum, self.fingerprint, self.applied_by, started,
            int((time.monotonic() - clock) * 1000)))


def _where(statement: Statement) -> str:
    """`statement 3 (line 7: CREATE INDEX CONCURRENTLY …)` for messages."""
    return f"statement {statement.index + 1} (line {statement.line}: {_first_line(statement)})"


def _first_line(statement: Statement) -> str:
    line = statement.text.strip().splitlines()[0].strip() if statement.text.strip() else ""
    return line if len(line) <= 80 else line[:79] + "…"


def _done(conn: psycopg.Connection, statement: Statement, undo: bool = True) -> DoneStatement:
    return DoneStatement(statement.index + 1, statement_hash(statement.text), statement.line, _first_line(statement),
                         _undo(conn, statement) if undo else None)


def _undo(conn: psycopg.Connection, statement: Statement) -> str | None:
    """SQL that undoes a statement, where migguard can derive it: an index this statement created is dropped.
    (An index that already existed, so was not built by this run, gets none: dropping it would undo more.)"""
    name = created_index(statement)
    if name is None:
        return None
    return sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(*name)).as_string(conn)


def remove_history(conn: psycopg.Connection, history_table: str, version: str) -> None:
    conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s").format(table_identifier(history_table)), (version,))
