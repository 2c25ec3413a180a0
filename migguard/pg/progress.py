"""Per-statement progress of statement-by-statement migrations, in production beside the history.

A migration with CONCURRENTLY cannot run in one transaction: each statement commits on its own.
So that a retry after a lock timeout, or a later apply after a failure, continues at the statement
that failed instead of running committed statements again, each statement that ran is recorded
here: in the same transaction as a statement that can run in one, right after one that cannot.
A row is keyed by migration version and statement number and carries the hash of the statement's
text, so a file edited since cannot be resumed as if it were the same. The rows of a migration are
deleted in the transaction that records it in the history table: the history says "applied" only
once every statement ran, and this table holds only migrations that are part way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg
from psycopg import sql

from migguard.core.identifiers import quote_qualified
from migguard.pg.history import split_name, table_exists

SUFFIX = "_progress"


@dataclass(frozen=True, slots=True)
class DoneStatement:
    """A statement of a part-way migration that ran and stayed applied."""

    number: int  # 1-based position in the file
    statement_hash: str
    line: int  # where it starts in the file, for messages
    first_line: str
    undo: str | None  # SQL that undoes it, when migguard can derive it


def table_path(history_table: str) -> tuple[str, str]:
    """(schema, table) of the progress table: the history's, `_progress` appended to the table's name
    (`migguard.schema_migrations` → migguard, schema_migrations_progress), any name quoted or not."""
    schema, table = split_name(history_table)
    return schema, table + SUFFIX


def table_name(history_table: str) -> str:
    """The progress table's name as SQL, for messages."""
    return quote_qualified(*table_path(history_table))


def _table(history_table: str) -> sql.Identifier:
    return sql.Identifier(*table_path(history_table))


def statement_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ensure_table(conn: psycopg.Connection, history_table: str) -> None:
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} ("
        " version text NOT NULL, statement_number integer NOT NULL, statement_hash text NOT NULL,"
        " line integer NOT NULL, first_line text NOT NULL, undo text, applied_by text,"
        " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (version, statement_number))"
    ).format(_table(history_table)))


def read(conn: psycopg.Connection, history_table: str, version: str | None = None) -> dict[str, dict[int, DoneStatement]]:
    """version → statement number → what ran; empty when the table does not exist yet."""
    if not table_exists(conn, *table_path(history_table)):
        return {}
    query = sql.SQL("SELECT version, statement_number, statement_hash, line, first_line, undo FROM {}").format(
        _table(history_table))
    if version is not None:
        rows = conn.execute(query + sql.SQL(" WHERE version = %s ORDER BY statement_number"), (version,)).fetchall()
    else:
        rows = conn.execute(query + sql.SQL(" ORDER BY version, statement_number")).fetchall()
    found: dict[str, dict[int, DoneStatement]] = {}
    for row in rows:
        found.setdefault(row[0], {})[row[1]] = DoneStatement(*row[1:])
    return found


def record(conn: psycopg.Connection, history_table: str, version: str, done: DoneStatement,
           applied_by: str | None) -> None:
    conn.execute(sql.SQL(
        "INSERT INTO {} (version, statement_number, statement_hash, line, first_line, undo, applied_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)").format(_table(history_table)),
        (version, done.number, done.statement_hash, done.line, done.first_line, done.undo, applied_by))


def clear(conn: psycopg.Connection, history_table: str, version: str) -> None:
    conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s").format(_table(history_table)),
                 (version,))
