"""The migration history table in production: which migrations ran, with which checksum.

Written by `apply` in the same transaction as each migration; read by `plan` and `status` to
split the migrations into applied and pending and to catch an applied file that was edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from migguard.core.errors import ConfigError
from migguard.core.identifiers import parse_qualified

COLUMNS = "version, name, checksum, plan_fingerprint, applied_by, started_at, duration_ms"


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    version: str
    name: str
    checksum: str
    plan_fingerprint: str | None
    applied_by: str | None
    started_at: datetime | None
    duration_ms: int | None


def split_name(qualified: str) -> tuple[str, str]:
    """`schema.table` from the config as PostgreSQL reads it (`Config.history_path`): unquoted
    parts fold to lower case, a double-quoted part keeps its case and may hold dots, so the names
    that migguard creates and reads are the same ones everywhere."""
    try:
        schema, table = parse_qualified(qualified, 2)
    except ValueError as error:
        raise ConfigError(f"history_table: {error}") from None
    return schema, table


def history_schema(qualified: str) -> str:
    """The schema migguard owns in production: the history and the audit head live there."""
    return split_name(qualified)[0]


def table_identifier(qualified: str) -> sql.Composed:
    """`schema.table` from the config as a safely quoted identifier."""
    return sql.Identifier(*split_name(qualified))


def ensure_table(conn: psycopg.Connection, qualified: str) -> None:
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(history_schema(qualified))))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} ("
        " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, plan_fingerprint text,"
        " applied_by text, started_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint)"
    ).format(table_identifier(qualified)))


def table_exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    return conn.execute("SELECT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = %s AND c.relname = %s)", (schema, table)).fetchone()[0]


def read_applied(conn: psycopg.Connection, qualified: str) -> list[AppliedMigration]:
    """Applied migrations in apply order; empty when the table does not exist yet."""
    if not table_exists(conn, *split_name(qualified)):
        return []
    rows = conn.execute(sql.SQL("SELECT " + COLUMNS + " FROM {} ORDER BY started_at, version").format(
        table_identifier(qualified))).fetchall()
    return [AppliedMigration(*row) for row in rows]


def record(conn: psycopg.Connection, qualified: str, applied: AppliedMigration) -> None:
    conn.execute(sql.SQL("INSERT INTO {} (" + COLUMNS + ") VALUES (%s, %s, %s, %s, %s, %s, %s)").format(
        table_identifier(qualified)),
        (applied.version, applied.name, applied.checksum, applied.plan_fingerprint, applied.applied_by,
         applied.started_at, applied.duration_ms))
