"""Bring lossy data back from the backup after a rollback recreated the structure.

A dropped table comes back with `pg_restore --data-only --table`. A dropped column cannot be
restored by pg_restore alone (the rest of the row lives on): its values are read from the
backup's COPY data for that table into a temporary table and written back by primary key.
Both are the commands the rollback script prints for a person to run by hand.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from migguard.db.connect import connect, describe
from migguard.db.schema import SchemaModel
from migguard.db.tools import client_for, run_tool, server_major
from migguard.errors import DatabaseError


@dataclass(frozen=True)
class Restored:
    object: str
    rows: int


def restore_command_table(table: str, backup: Path) -> str:
    return f'pg_restore --data-only --table={table.partition(".")[2] or table} --dbname="$PG_PROD_URL" {backup}'


def restore_command_column(table: str, column: str, backup: Path) -> str:
    """How a dropped column's values come back: `migguard rollback --confirm-live` does it after
    re-adding the column; by hand, the values are in the table's COPY data in the backup."""
    name = table.partition(".")[2] or table
    return (f"migguard rollback --confirm-live re-adds it and writes the values back by primary key; by hand: "
            f"pg_restore --data-only --table={name} --file=- {backup}")


def restore_table(url: str, backup: Path, table: str) -> Restored:
    schema, _, name = table.partition(".")
    binaries = client_for(server_major(url))
    run_tool(binaries, "pg_restore", ["--data-only", "--schema", schema, "--table", name, str(backup)], url,
             "pg_restore --data-only")
    with connect(url) as conn:
        rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))).fetchone()[0]
    return Restored(table, int(rows))


def _copy_block(backup: Path, table: str, url: str) -> tuple[list[str], bytes]:
    """The column list and the COPY text data of `table` in the backup archive."""
    schema, _, name = table.partition(".")
    binaries = client_for(server_major(url))
    try:
        output = subprocess.run([binaries.program("pg_restore"), "--data-only", "--schema", schema, "--table", name,
                                 "--file", "-", str(backup)], capture_output=True, check=True, timeout=3600).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise DatabaseError(f"reading {table} from the backup failed: {error}") from None
    lines = output.split(b"\n")
    for index, line in enumerate(lines):
        if line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            header = line.decode()
            columns = [c.strip().strip('"') for c in header[header.index("(") + 1: header.rindex(")")].split(",")]
            end = lines.index(b"\\.", index + 1)
            return columns, b"\n".join(lines[index + 1:end]) + b"\n"
    raise DatabaseError(f"the backup holds no data for {table}")


def restore_column(url: str, backup: Path, table: str, column: str, before: SchemaModel) -> Restored:
    """Write the backup's values of `table.column` back into production, matched by primary key."""
    model = before.tables.get(table)
    if model is None or column not in model.columns:
        raise DatabaseError(f"{table}.{column} is not in the schema from before the migration")
    key = next((c.columns for c in model.constraints.values() if c.kind == "primary"), ())
    if not key:
        raise DatabaseError(f"{table} has no primary key: its column values cannot be matched back")
    columns, data = _copy_block(backup, table, url)
    types = {c.name: c.type for c in model.columns.values()}
    schema, _, name = table.partition(".")
    temporary = sql.Identifier(f"migguard_restore_{name}")
    with connect(url) as conn:
        try:
            definitions = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(types.get(c, "text")))
                                            for c in columns)
            conn.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(temporary, definitions))
            with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
                    temporary, sql.SQL(", ").join(sql.Identifier(c) for c in columns))) as copy:
                copy.write(data)
            match = sql.SQL(" AND ").join(sql.SQL("t.{k} = r.{k}").format(k=sql.Identifier(k)) for k in key)
            updated = conn.execute(sql.SQL("UPDATE {t} AS t SET {c} = r.{c} FROM {r} AS r WHERE {match}").format(
                t=sql.Identifier(schema, name), c=sql.Identifier(column), r=temporary, match=match)).rowcount
            conn.commit()
        except psycopg.Error as error:
            raise DatabaseError(f"restoring {table}.{column} from the backup failed: {describe(error)}") from None
    return Restored(f"{table}.{column}", updated)
