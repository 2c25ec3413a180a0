"""Bring lossy data back from apply's backup, inside the rollback's own transaction.

pg_restore --dbname would run its own session, which cannot join the rollback's transaction, so
the backup is read as text (`pg_restore --data-only --file=-` for one relation) and streamed
into production with COPY over the rollback's connection: a failure anywhere undoes the
structural reverse and the history delete with it.

- A dropped table gets its rows back with COPY, and its sequences (identity, serial) the value
  the backup holds (the archive's SEQUENCE SET entry).
- A dropped column gets its values back by row key (the primary key, else a unique key over
  NOT NULL columns): the backup's COPY data goes into a temporary table, then one UPDATE.
  A table without such a key cannot be matched back: the plan names it (`rollback-not-restorable`).

The COPY header is parsed with PostgreSQL's own grammar (pglast), so any column name works.
"""

from __future__ import annotations

import itertools
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pglast
import psycopg
from psycopg import sql

from migguard.core.errors import DatabaseError
from migguard.core.identifiers import comment_safe
from migguard.pg.cluster import Binaries
from migguard.pg.tools import tool_error
from migguard.schema.model import Table, row_key

_CHUNK = 1 << 16
_HEADER_LINES = 10_000  # a COPY header longer than this is not pg_dump's
_names = itertools.count()


@dataclass(frozen=True)
class Restored:
    object: str
    rows: int


def qualified_parts(text: str) -> list[str]:
    """The parts of a qualified name as PostgreSQL prints it (`public."Doc"."Id"` → public, Doc, Id)."""
    try:
        target = pglast.parse_sql(f"SELECT {text}")[0].stmt.targetList[0].val
        return [part.sval for part in target.fields]
    except (pglast.parser.ParseError, IndexError, AttributeError):
        return []


def restore_command_table(schema: str, name: str, backup: Path) -> str:
    """How a person restores a dropped table by hand (`migguard rollback --confirm-live` does it itself)."""
    return comment_safe(f"pg_restore --data-only --schema={shlex.quote(schema)} --table={shlex.quote(name)} "
                 f'--dbname="$PG_PROD_URL" {shlex.quote(str(backup))}')


def restore_command_column(schema: str, name: str, column: str, backup: Path) -> str:
    """Where a dropped column's values are: `migguard rollback --confirm-live` writes them back by key."""
    return comment_safe(f"migguard rollback --confirm-live re-adds {shlex.quote(column)} and writes the values back by "
                 f"row key; by hand: pg_restore --data-only --schema={shlex.quote(schema)} --table={shlex.quote(name)} "
                 f"--file=- {shlex.quote(str(backup))}")


# --- what can be restored ------------------------------------------------------------------


# --- reading the backup ------------------------------------------------------------------------


def copy_header(line: bytes) -> tuple[str, str, list[str]]:
    """(schema, table, columns) of a `COPY … (…) FROM stdin;` line, parsed by PostgreSQL's grammar."""
    try:
        statement = pglast.parse_sql(line.decode("utf-8"))[0].stmt
    except (pglast.parser.ParseError, UnicodeDecodeError, IndexError) as error:
        raise DatabaseError(f"unreadable COPY header in the backup: {error.__class__.__name__}") from None
    if type(statement).__name__ != "CopyStmt" or statement.relation is None:
        raise DatabaseError("unreadable COPY header in the backup")
    columns = [name.sval for name in statement.attlist or ()]
    return statement.relation.schemaname or "", statement.relation.relname, columns


def _parses(text: bytes) -> bool:
    try:
        pglast.parse_sql(text.decode("utf-8"))
    except (pglast.parser.ParseError, UnicodeDecodeError):
        return False
    return True


def sequence_value(line: bytes) -> tuple[int, bool] | None:
    """(value, is_called) of pg_dump's `SELECT pg_catalog.setval('…', 42, true);`, else None."""
    try:
        statement = pglast.parse_sql(line.decode("utf-8"))[0].stmt
        call = statement.targetList[0].val
        if type(call).__name__ != "FuncCall" or call.funcname[-1].sval != "setval":
            return None
        _, value, called = (argument.val for argument in call.args)
        number = value.ival if hasattr(value, "ival") else int(value.fval)
        return int(number), bool(called.boolval)
    except (pglast.parser.ParseError, UnicodeDecodeError, IndexError, AttributeError, TypeError, ValueError):
        return None


class BackupData:
    """`pg_restore --data-only --file=-` of one relation of the backup, streamed line by line."""

    def __init__(self, binaries: Binaries, backup: Path, schema: str, name: str) -> None:
        self.what = f"{comment_safe(schema)}.{comment_safe(name)} from {backup.name}"
        try:
            self.process = subprocess.Popen(
                [binaries.program("pg_restore"), "--data-only", "--schema", schema, "--table", name, "--file", "-",
                 str(backup)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        except OSError as error:
            raise DatabaseError(f"reading {self.what} failed: {error.strerror}") from None

    def __enter__(self) -> BackupData:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()

    def copy_columns(self) -> list[str] | None:
        """Reads up to the COPY header; its column list, or None when the backup has no data for it.

        A quoted name may hold a newline, so the header runs until it parses as a whole statement."""
        for line in self.process.stdout:
            if not line.startswith(b"COPY "):
                continue
            header = line
            for _ in range(_HEADER_LINES):
                if header.rstrip().endswith(b"FROM stdin;") and _parses(header):
                    return copy_header(header)[2]
                header += self.process.stdout.readline()
            raise DatabaseError(f"reading {self.what}: unreadable COPY header")
        self._check_exit()
        return None

    def rows(self) -> Iterator[bytes]:
        """The COPY text data after the header, in chunks of whole lines, up to the `\\.` terminator."""
        chunk: list[bytes] = []
        size = 0
        for line in self.process.stdout:
            if line in (b"\\.\n", b"\\.\r\n", b"\\."):
                break
            chunk.append(line)
            size += len(line)
            if size >= _CHUNK:
                yield b"".join(chunk)
                chunk, size = [], 0
        else:
            self._check_exit()
            raise DatabaseError(f"reading {self.what}: the COPY data ends early")
        if chunk:
            yield b"".join(chunk)

    def sequence(self) -> tuple[int, bool] | None:
        for line in self.process.stdout:
            if not line.startswith(b"SELECT pg_catalog.setval("):
                continue
            statement = line
            for _ in range(_HEADER_LINES):  # as for COPY: the name in the literal may hold a newline
                if statement.rstrip().endswith(b");") and _parses(statement):
                    return sequence_value(statement)
                statement += self.process.stdout.readline()
            return None
        self._check_exit()
        return None

    def _check_exit(self) -> None:
        if self.process.wait() != 0:
            raise tool_error(f"reading {self.what}", self.process.stderr.read(), self.process.returncode)


# --- writing it back, in the caller's transaction -------------------------------------------


def _copy(conn: psycopg.Connection, data: BackupData, target: sql.Composable, columns: list[str]) -> int:
    rows = 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in data.rows():
            rows += chunk.count(b"\n")
            copy.write(chunk)
    return rows


def restore_table(conn: psycopg.Connection, binaries: Binaries, backup: Path, schema: str, name: str) -> Restored:
    """COPY the backup's rows of a recreated (empty) table back into it."""
    with BackupData(binaries, backup, schema, name) as data:
        columns = data.copy_columns()
        if columns is None:
            raise DatabaseError(f"the backup holds no data for {comment_safe(schema)}.{comment_safe(name)}")
        rows = _copy(conn, data, sql.Identifier(schema, name), columns)
    return Restored(f"{schema}.{name}", rows)


def restore_column(conn: psycopg.Connection, binaries: Binaries, backup: Path, table: Table, column: str) -> Restored:
    """Write the backup's values of a re-added column back, matched by row key."""
    schema, name = table.schema_name, table.name
    key = row_key(table)
    target = sql.Identifier(schema, name)
    temporary = sql.Identifier(f"migguard_restore_{next(_names)}")
    with BackupData(binaries, backup, schema, name) as data:
        columns = data.copy_columns()
        missing = [c for c in (*key, column) if c not in (columns or ())]
        if columns is None or missing:
            raise DatabaseError(f"the backup holds no values of {comment_safe(', '.join(missing) or column)} for "
                                f"{comment_safe(schema)}.{comment_safe(name)}")
        # Same types as the table (no type names spliced into SQL), no constraints: the backup's rows as they were.
        conn.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT * FROM {} WITH NO DATA").format(
            temporary, target))
        present = {row[0] for row in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (temporary.as_string(conn),))}
        for extra in (c for c in columns if c not in present):  # a column that no longer exists: kept as text
            conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} text").format(temporary, sql.Identifier(extra)))
        _copy(conn, data, temporary, columns)
    always = table.columns[column].identity == "always"
    if always:  # an identity column GENERATED ALWAYS refuses UPDATE; BY DEFAULT while its values come back
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET GENERATED BY DEFAULT").format(
            target, sql.Identifier(column)))
    match = sql.SQL(" AND ").join(sql.SQL("t.{k} = r.{k}").format(k=sql.Identifier(k)) for k in key)
    updated = conn.execute(sql.SQL("UPDATE {t} AS t SET {c} = r.{c} FROM {r} AS r WHERE {match}").format(
        t=target, c=sql.Identifier(column), r=temporary, match=match)).rowcount
    if always:
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET GENERATED ALWAYS").format(
            target, sql.Identifier(column)))
    conn.execute(sql.SQL("DROP TABLE {}").format(temporary))
    return Restored(f"{schema}.{name}.{column}", updated)


def table_columns(binaries: Binaries, backup: Path, schema: str, name: str) -> list[str] | None:
    """The columns the backup holds data for (None: no data for that table in the backup)."""
    with BackupData(binaries, backup, schema, name) as data:
        return data.copy_columns()


def read_sequence(binaries: Binaries, backup: Path, schema: str, name: str) -> tuple[int, bool] | None:
    """The value the backup holds for a sequence (None: the backup has none)."""
    with BackupData(binaries, backup, schema, name) as data:
        return data.sequence()


def restore_sequence(conn: psycopg.Connection, schema: str, name: str, column: str | None,
                     value: tuple[int, bool]) -> None:
    """setval to the backup's value: the sequence `schema.name`, or the one behind identity
    column `column` of table `schema.name` (wherever the recreated table put it)."""
    relation = sql.Identifier(schema, name).as_string(conn)
    if column is None:
        conn.execute("SELECT pg_catalog.setval(%s::regclass, %s, %s)", (relation, value[0], value[1]))
    else:
        conn.execute("SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(%s, %s), %s, %s)",
                     (relation, column, value[0], value[1]))
