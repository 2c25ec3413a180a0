"""Apply migrations to production: one transaction each, under lock and statement timeouts,
recorded in the history table in that same transaction, retried when the lock timeout fires.

A migration with CONCURRENTLY cannot run in a transaction: it runs statement by statement, and
each CREATE INDEX CONCURRENTLY first removes an INVALID index of the same name that an earlier
failed attempt left behind (and is skipped when a valid one exists), so a retry is safe.
The session also asks the server to notice a vanished client (client_connection_check_interval),
so a killed apply does not leave a backend holding locks until its statement finishes.
"""

from __future__ import annotations

import getpass
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg
from psycopg import sql

from migguard.apply.history import AppliedMigration, ensure_table, record, table_identifier
from migguard.db.connect import connect, describe
from migguard.errors import DatabaseError, LockHeld
from migguard.parse import parse_file
from migguard.sources import Migration

Sleep = Callable[[float], None]


@dataclass
class RunResult:
    applied: list[str] = field(default_factory=list)
    failed: str | None = None
    error: str | None = None
    retries: int = 0


class MigrationError(DatabaseError):
    """A migration failed and was rolled back; those before it stay applied."""

    def __init__(self, migration: Migration, message: str, result: RunResult) -> None:
        self.migration = migration
        self.result = result
        super().__init__(f"migration {migration.version} ({migration.up.name}) failed and was rolled back: {message}")


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

    def run(self, migrations: list[Migration]) -> RunResult:
        """Apply each migration in order; stop at the first failure (raising MigrationError)."""
        result = RunResult()
        with connect(self.url, autocommit=True) as conn:
            self._session(conn)
            with conn.transaction():
                ensure_table(conn, self.history_table)
            for migration in migrations:
                self._apply_with_retries(conn, migration, result)
                result.applied.append(migration.version)
        return result

    def _session(self, conn: psycopg.Connection) -> None:
        if conn.info.server_version >= 140000:
            conn.execute("SET client_connection_check_interval = '1s'")

    def _apply_with_retries(self, conn: psycopg.Connection, migration: Migration, result: RunResult) -> None:
        for attempt in range(self.lock_retries + 1):
            try:
                self._apply(conn, migration)
                return
            except psycopg.errors.LockNotAvailable as error:
                if attempt == self.lock_retries:
                    result.failed, result.error = migration.version, describe(error)
                    raise MigrationError(migration, f"lock_timeout {self.lock_timeout} fired "
                                                    f"{self.lock_retries + 1} times: {describe(error)}", result) from None
                delay = self.backoff_base * (2 ** attempt) * (0.5 + random.random())  # exponential, with jitter
                result.retries += 1
                self.progress(f"  {migration.version}: lock not available ({self.lock_timeout}); "
                              f"retry {attempt + 1}/{self.lock_retries} in {delay:.1f}s")
                self.sleep(delay)
            except psycopg.Error as error:
                result.failed, result.error = migration.version, describe(error)
                raise MigrationError(migration, describe(error), result) from None

    def _apply(self, conn: psycopg.Connection, migration: Migration) -> None:
        text = migration.up_sql()
        statements = parse_file(text).statements
        started = datetime.now(timezone.utc)
        clock = time.monotonic()
        if any(s.runs_concurrently for s in statements):
            self.progress(f"  {migration.version}: CONCURRENTLY: statement by statement, outside a transaction")
            conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(self.lock_timeout)))
            conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(self.statement_timeout)))
            try:
                for statement in statements:
                    if statement.runs_concurrently and not self._prepare_concurrent_index(conn, statement):
                        continue
                    conn.execute(statement.text)
                with conn.transaction():
                    self._record(conn, migration, started, clock)
            finally:
                conn.execute("RESET lock_timeout")
                conn.execute("RESET statement_timeout")
            return
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(self.lock_timeout)))
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(self.statement_timeout)))
            conn.execute(text)
            self._record(conn, migration, started, clock)

    def _prepare_concurrent_index(self, conn: psycopg.Connection, statement) -> bool:
        """Before CREATE INDEX CONCURRENTLY: drop an INVALID leftover; skip when a valid one exists."""
        from sqlglot import exp

        from migguard.commands import CreateIndex

        tree, command = statement.ast, statement.command
        name = None
        if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "INDEX":
            index = tree.this
            name = index.name if isinstance(index, exp.Index) and index.args.get("this") is not None else None
            schema = None
            table = index.args.get("table") if isinstance(index, exp.Index) else None
            if isinstance(table, exp.Table) and table.args.get("db") is not None:
                schema = table.args["db"].name
        elif isinstance(command, CreateIndex):
            name, schema = command.name, (command.table.rpartition(".")[0] or None)
        if not name:
            return True
        qualified = f"{schema}.{name}" if schema else name
        row = conn.execute("SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
                           (qualified,)).fetchone()
        if row is None:
            return True
        if row[0]:
            self.progress(f"  index {qualified} already exists and is valid: skipped")
            return False
        self.progress(f"  index {qualified} is INVALID (an earlier attempt failed): dropping it first")
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(*qualified.split("."))))
        return True

    def _record(self, conn: psycopg.Connection, migration: Migration, started: datetime, clock: float) -> None:
        record(conn, self.history_table, AppliedMigration(
            migration.version, migration.name, migration.checksum(), self.fingerprint, self.applied_by, started,
            int((time.monotonic() - clock) * 1000)))


def remove_history(conn: psycopg.Connection, history_table: str, version: str) -> None:
    conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s").format(table_identifier(history_table)), (version,))
