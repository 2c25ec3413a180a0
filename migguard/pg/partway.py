"""Migrations that ran part way in production, as `plan` and `status` must see them.

A statement-by-statement (CONCURRENTLY) migration that failed part way leaves its committed
statements in production, recorded in the progress table (`apply/progress.py`); the history does
not list it. Whoever compares production with the migrations must count those statements: the
replay runs them after the applied history (so drift compares like with like), and the clone,
which is production's schema and so already holds them, skips them (so the plan traces only what
a resumed apply will run). Here: reading the progress rows against the files (read-only), running
the recorded statements of a part-way migration on a shadow database, and telling apart the
INVALID index a failed CREATE INDEX CONCURRENTLY left behind (the runner drops and builds it
again: not drift; pg_dump leaves it out of the clone).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from migguard.core.session import is_session_setting
from migguard.core.sources import Migration
from migguard.pg import progress
from migguard.pg.connect import describe
from migguard.pg.progress import DoneStatement, statement_hash
from migguard.pg.shadow import MigrationFailed
from migguard.schema.model import SchemaModel
from migguard.sql.parse import Statement, created_index, parse_file


@dataclass(frozen=True)
class PartWay:
    """A pending migration of which production holds statements `done` (1-based numbers)."""

    migration: Migration
    done: dict[int, DoneStatement]
    statements: tuple[Statement, ...]

    @property
    def version(self) -> str:
        return self.migration.version

    @property
    def skip(self) -> frozenset[int]:
        return frozenset(self.done)


@dataclass(frozen=True)
class Mismatch:
    """Production ran part of a migration that the files no longer hold as it ran: never resumed."""

    version: str
    message: str


def read_part_way(conn: psycopg.Connection, history_table: str,
                  pending: list[Migration]) -> tuple[list[PartWay], list[Mismatch]]:
    """The pending migrations production ran part of (in pending order), and the recorded ones
    that do not match the files: a statement whose hash differs from the file's statement at that
    number, or progress rows of a version that is not a pending file. Only reads."""
    recorded = progress.read(conn, history_table)
    by_version = {m.version: m for m in pending}
    part_way, mismatches = [], []
    for version in sorted(set(recorded) - set(by_version)):
        mismatches.append(Mismatch(version, f"Migration {version} ran part way in production (statement(s) "
                                            f"{_numbers(recorded[version])} recorded in "
                                            f"{progress.table_name(history_table)}), but it is not a pending "
                                            "migration file."))
    for migration in pending:
        done = recorded.get(migration.version)
        if not done:
            continue
        statements = parse_file(migration.up_sql()).statements
        problem = _first_mismatch(statements, done)
        if problem:
            mismatches.append(Mismatch(migration.version, f"Migration {migration.version} ran part way in production "
                                                          f"and its {problem}: it cannot be resumed as it ran."))
        else:
            part_way.append(PartWay(migration, done, statements))
    return part_way, mismatches


def _first_mismatch(statements: tuple[Statement, ...], done: dict[int, DoneStatement]) -> str | None:
    for number, row in sorted(done.items()):
        current = statements[number - 1] if number <= len(statements) else None
        if current is None:
            return f"statement {number} (line {row.line}: {row.first_line}) that ran is no longer in the file"
        if statement_hash(current.text) != row.statement_hash:
            return (f"statement {number} (line {row.line}: {row.first_line}) that ran differs from the file's "
                    f"statement {number} (line {current.line})")
    return None


def run_recorded(conn: psycopg.Connection, part: PartWay) -> None:
    """On a shadow: the statements production ran of `part`, as the runner ran them: in file order,
    each recorded statement, with the session settings before the last one (they shape what a
    statement does, e.g. search_path, and are never recorded), outside a transaction."""
    last = max(part.done)
    conn.autocommit = True
    try:
        for statement in part.statements[:last]:
            number = statement.index + 1
            if number in part.done or is_session_setting(statement.text):
                conn.execute(statement.text)
    except psycopg.Error as error:
        raise MigrationFailed(part.migration, describe(error)) from None
    finally:
        if not conn.closed and not conn.broken:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")  # a file's own BEGIN whose statement failed
            conn.execute("RESET ALL")


def _numbers(done: dict[int, DoneStatement]) -> str:
    return ", ".join(str(n) for n in sorted(done))


def without_leftovers(model: SchemaModel, pending: list[Migration],
                      part_way: list[PartWay]) -> tuple[SchemaModel, list[str]]:
    """`model` (production) minus each INVALID index that a CREATE INDEX CONCURRENTLY still to run of
    a pending migration creates: the leftover of a failed attempt, which the runner drops before
    building it again (read with `parse.created_index`, as the runner does, so both agree on the name). For
    the drift comparison only (the fingerprint keeps production as it is).
    Returns the model and the leftovers' names."""
    done = {p.version: p.skip for p in part_way}
    names: set[tuple[str, ...]] = set()
    for migration in pending:
        for statement in parse_file(migration.up_sql()).statements:
            if statement.runs_concurrently and statement.index + 1 not in done.get(migration.version, ()):
                name = created_index(statement)
                if name is not None:
                    names.add(name)
    if not names:
        return model, []
    found: list[str] = []
    tables = {}
    for key, table in model.tables.items():
        leftovers = [i for i in table.indexes.values() if not i.valid
                     and ((table.schema_name, i.name) in names or (i.name,) in names)]
        if leftovers:
            found += [f"{table.schema_name}.{i.name}" for i in leftovers]
            table = table.model_copy(update={"indexes": {k: v for k, v in table.indexes.items() if v not in leftovers}})
        tables[key] = table
    return (model.model_copy(update={"tables": tables}), sorted(found)) if found else (model, [])
