"""The migration history table in production: which migrations ran, with which checksum.

Written by `apply` in the same transaction as each migration; read by `plan` and `status` to
split the migrations into applied and pending and to catch an applied file that was edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from migguard.errors import ConfigError

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


def table_identifier(qualified: str) -> sql.Composed:
    """`schema.table` from the config as a safely quoted identifier."""
    schema, _, table = qualified.partition(".")
    if not table or not schema:
        raise ConfigError(f"history_table must be schema-qualified (schema.table), got '{qualified}'")
    return sql.Identifier(schema, table)


def ensure_table(conn: psycopg.Connection, qualified: str) -> None:
    schema = qualified.partition(".")[0]
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} ("
        " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, plan_fingerprint text,"
        " applied_by text, started_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint)"
    ).format(table_identifier(qualified)))


def read_applied(conn: psycopg.Connection, qualified: str) -> list[AppliedMigration]:
    """Applied migrations in apply order; empty when the table does not exist yet."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,)).fetchone()[0]
    if not exists:
        return []
    rows = conn.execute(sql.SQL("SELECT " + COLUMNS + " FROM {} ORDER BY started_at, version").format(
        table_identifier(qualified))).fetchall()
    return [AppliedMigration(*row) for row in rows]


def record(conn: psycopg.Connection, qualified: str, applied: AppliedMigration) -> None:
    conn.execute(sql.SQL("INSERT INTO {} (" + COLUMNS + ") VALUES (%s, %s, %s, %s, %s, %s, %s)").format(
        table_identifier(qualified)),
        (applied.version, applied.name, applied.checksum, applied.plan_fingerprint, applied.applied_by,
         applied.started_at, applied.duration_ms))
