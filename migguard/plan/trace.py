"""Observe what each statement of a pending migration really does on the clone: the locks its
backend holds and the relations it rewrites (relfilenode changed), graded by production's size.

Static rules guess from the SQL; this is the measured fact. A statement that rewrites a
20-row table is information; the same statement on a table of millions of rows is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader

SMALL_ROWS = 10_000
LARGE_ROWS = 1_000_000
LARGE_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class TableSize:
    rows: int
    bytes: int


@dataclass
class StatementTrace:
    """What one statement did: new locks held on existing tables, relations rewritten."""

    migration: str
    index: int
    statement: str
    locks: dict[str, str] = field(default_factory=dict)  # relation → strongest new lock mode
    rewritten: list[str] = field(default_factory=list)  # tables (and indexes) whose storage was replaced


def table_sizes(conn: psycopg.Connection, *, exclude_schemas: tuple[str, ...] = ()) -> dict[str, TableSize]:
    """Row estimates and total sizes of the application's tables (read-only, from the statistics)."""
    rows = CatalogReader(conn, exclude_schemas=exclude_schemas).tuples(q.TRACE_SIZES_SQL)
    return {row[0]: TableSize(int(row[1]), int(row[2])) for row in rows}


class Tracer:
    """Call `before(conn)` once, then `after_statement(conn, …)` after each statement."""

    def __init__(self, migration: str) -> None:
        self.migration = migration
        self.traces: list[StatementTrace] = []
        self._names: dict[int, str] = {}  # oid → schema.table of the tables that existed before
        self._filenodes: dict[int, int | None] = {}
        self._locks: dict[int, set[str]] = {}

    def before(self, conn: psycopg.Connection) -> None:
        rows = CatalogReader(conn).tuples(q.TRACE_FILENODES_SQL)
        self._names = {oid: relation for oid, relation, kind, _ in rows if kind in ("r", "m")}
        self._filenodes = {oid: filenode for oid, _, kind, filenode in rows if kind in ("r", "m")}
        self._locks = {}

    @property
    def observes(self) -> bool:
        """Whether a table existed before the migration: else there is nothing to see between statements."""
        return bool(self._names)

    def after_statement(self, conn: psycopg.Connection, index: int, statement: str) -> None:
        if not self._names:  # no table existed before the migration: nothing to lock or rewrite
            self.traces.append(StatementTrace(self.migration, index, statement.strip()))
            return
        held: dict[int, set[str]] = {}
        filenodes: dict[int, int | None] = {}
        # One round trip, scoped to the tables that existed before the migration.
        after = conn.execute(q.TRACE_AFTER_STATEMENT_SQL, {"tables": list(self._names)}).fetchall()
        for what, oid, mode, filenode in after:
            if what == "lock":
                held.setdefault(oid, set()).add(mode)
            else:
                filenodes[oid] = filenode
        new_locks = {}
        for oid, modes in held.items():
            fresh = modes - self._locks.get(oid, set())
            if fresh:
                new_locks[self._names[oid]] = _strongest(fresh)
        self._locks = held
        # A table dropped by the statement has no file any more: that is not a rewrite.
        rewritten = sorted(self._names[oid] for oid, node in filenodes.items()
                           if node is not None and self._filenodes.get(oid) not in (None, node))
        self._filenodes.update({oid: node for oid, node in filenodes.items() if node is not None})
        self.traces.append(StatementTrace(self.migration, index, statement.strip(), new_locks, rewritten))


_ORDER = ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
          "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]


def _strongest(modes: set[str]) -> str:
    return max(modes, key=lambda m: _ORDER.index(m) if m in _ORDER else -1)


def grade(size: TableSize | None) -> str:
    """info for small tables, warning for medium, error for large (by production's size)."""
    if size is None or size.rows < SMALL_ROWS and size.bytes < 64 << 20:
        return "info"
    if size.rows >= LARGE_ROWS or size.bytes >= LARGE_BYTES:
        return "error"
    return "warning"
