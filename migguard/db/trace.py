"""Observe what each statement of a pending migration really does on the clone: the locks its
backend holds and the relations it rewrites (relfilenode changed), graded by production's size.

Static rules guess from the SQL; this is the measured fact. A statement that rewrites a
20-row table is information; the same statement on a table of millions of rows is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

_USER_RELATIONS = """
    c.relnamespace IN (SELECT oid FROM pg_namespace
                       WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                         AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%')
"""

LOCKS_SQL = f"""
SELECT DISTINCT n.nspname || '.' || c.relname AS relation, l.mode
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype = 'relation' AND c.relkind IN ('r', 'p', 'm')
  AND {_USER_RELATIONS}
"""

FILENODES_SQL = f"""
SELECT c.oid, n.nspname || '.' || c.relname AS relation, c.relkind, pg_relation_filenode(c.oid) AS filenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'i') AND {_USER_RELATIONS}
"""

SIZES_SQL = f"""
SELECT n.nspname || '.' || c.relname AS relation, greatest(c.reltuples, 0)::bigint AS rows,
       pg_total_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND {_USER_RELATIONS}
"""

# Lock modes that block ordinary traffic (reads or writes) while held.
BLOCKING = {
    "AccessExclusiveLock": "every read and write",
    "ExclusiveLock": "every write",
    "ShareRowExclusiveLock": "every write",
    "ShareLock": "every write",
}

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


def table_sizes(conn: psycopg.Connection) -> dict[str, TableSize]:
    """Row estimates and total sizes of every user table (read-only, from the statistics)."""
    return {row[0]: TableSize(int(row[1]), int(row[2])) for row in conn.execute(SIZES_SQL).fetchall()}


class Tracer:
    """Call `before(conn)` once, then `after_statement(conn, …)` after each statement."""

    def __init__(self, migration: str) -> None:
        self.migration = migration
        self.traces: list[StatementTrace] = []
        self._filenodes: dict[int, tuple[str, str, int | None]] = {}
        self._locks: dict[str, set[str]] = {}
        self._existing: set[str] = set()

    def before(self, conn: psycopg.Connection) -> None:
        self._filenodes = self._snapshot(conn)
        self._existing = {relation for relation, kind, _ in self._filenodes.values() if kind in ("r", "m")}
        self._locks = {}

    def after_statement(self, conn: psycopg.Connection, index: int, statement: str) -> None:
        held: dict[str, set[str]] = {}
        for relation, mode in conn.execute(LOCKS_SQL).fetchall():
            held.setdefault(relation, set()).add(mode)
        new_locks = {}
        for relation, modes in held.items():
            fresh = modes - self._locks.get(relation, set())
            if fresh and relation in self._existing:
                new_locks[relation] = _strongest(fresh)
        self._locks = held
        nodes = self._snapshot(conn)
        rewritten = sorted(
            relation for oid, (relation, kind, filenode) in nodes.items()
            if oid in self._filenodes and self._filenodes[oid][2] != filenode and kind in ("r", "m")
        )
        self._filenodes = nodes
        self.traces.append(StatementTrace(self.migration, index, statement.strip(), new_locks, rewritten))

    @staticmethod
    def _snapshot(conn: psycopg.Connection) -> dict[int, tuple[str, str, int | None]]:
        return {row[0]: (row[1], row[2], row[3]) for row in conn.execute(FILENODES_SQL).fetchall()}


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
