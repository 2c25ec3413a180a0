"""Open psycopg connections with timeouts and an application_name; errors never carry the DSN."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from migguard.core.dsn import parse_url
from migguard.core.errors import DatabaseError
from migguard.core.redact import redact_text
from migguard.pg import scope

APPLICATION_NAME = "migguard"


def connect(url: str, *, autocommit: bool = False, connect_timeout: int = 10,
            statement_timeout: str | None = None) -> psycopg.Connection:
    """A connection to `url`; a failure raises DatabaseError with the target redacted."""
    parse_url(url)
    schema = scope.current()  # a tenant's run: its schema is the search_path of every session
    settings = [f"-c statement_timeout={statement_timeout}" if statement_timeout else None,
                scope.search_path_option(schema) if schema is not None else None]
    options = " ".join(s for s in settings if s) or None
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout,
                               application_name=APPLICATION_NAME, options=options)
    except psycopg.Error as error:
        raise DatabaseError(f"cannot connect to {redact_text(url)}: {describe(error)}") from None


def describe(error: BaseException) -> str:
    """One redacted line describing a database error."""
    text = str(error).strip().splitlines()
    return redact_text(text[0] if text else type(error).__name__)


@contextmanager
def read_only_snapshot(conn: psycopg.Connection, name: str = "migguard_read", *,
                       keep_prepared: bool = False) -> Iterator[None]:
    """One read-only repeatable-read snapshot, rolled back afterwards with the settings made in it.

    Inside a caller's transaction, a savepoint plays that role (its transaction stays usable).
    `keep_prepared`: a snapshot of its own ends with COMMIT, which, in a read-only transaction,
    undoes its settings as ROLLBACK does: psycopg forgets every statement it prepared on the
    connection after a ROLLBACK, not after a COMMIT, so a reader that reads again and again on
    one connection keeps its queries parsed and planned."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        finally:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
        return
    autocommit = conn.autocommit
    conn.autocommit = True
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield
    finally:
        intact = conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # not failed
        conn.execute("COMMIT" if keep_prepared and intact else "ROLLBACK")
        conn.autocommit = autocommit
