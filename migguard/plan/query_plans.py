"""Watched queries: does a migration change how PostgreSQL plans the queries that matter?

Each query of `watch_queries` is EXPLAINed (FORMAT JSON, no ANALYZE: nothing runs) on the clone
before and after the pending migrations. Production's statistics are not copied, so what is
compared is the plan's shape — which nodes, which tables, which indexes — not its cost. A query
that stops using an index it used before is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from migguard.core.sources import read_sql
from migguard.sql.parse import parse_file


@dataclass(frozen=True)
class QueryPlan:
    nodes: tuple[str, ...]  # node types, depth first
    indexes: frozenset[str]
    tables: frozenset[str]
    error: str | None = None


@dataclass
class PlanChange:
    query: str
    line: int
    before: QueryPlan
    after: QueryPlan
    lost_indexes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.lost_indexes) or (self.after.error is not None and self.before.error is None)


def load_queries(path: Path) -> list[tuple[int, str]]:
    """(line, SQL) of each statement in the watch file."""
    return [(s.line, s.text) for s in parse_file(read_sql(path)).statements if s.syntax_error is None]


def explain(conn: psycopg.Connection, query: str) -> QueryPlan:
    """The plan shape of `query`, inside a savepoint so an error leaves the connection usable."""
    try:
        with conn.transaction():
            row = conn.execute("EXPLAIN (FORMAT JSON) " + query).fetchone()
    except psycopg.Error as error:
        return QueryPlan((), frozenset(), frozenset(), str(error).splitlines()[0])
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    nodes: list[str] = []
    indexes: set[str] = set()
    tables: set[str] = set()

    def walk(node: dict) -> None:
        nodes.append(node.get("Node Type", "?"))
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        if "Relation Name" in node:
            tables.add(node["Relation Name"])
        for child in node.get("Plans", ()):
            walk(child)

    walk(document[0]["Plan"])
    return QueryPlan(tuple(nodes), frozenset(indexes), frozenset(tables))


def snapshot(conn: psycopg.Connection, queries: list[tuple[int, str]]) -> list[QueryPlan]:
    return [explain(conn, query) for _, query in queries]


def compare(queries: list[tuple[int, str]], before: list[QueryPlan], after: list[QueryPlan]) -> list[PlanChange]:
    """Queries whose plan shape changed, with the indexes they no longer use."""
    changes = []
    for (line, query), old, new in zip(queries, before, after, strict=True):
        if old == new:
            continue
        changes.append(PlanChange(query, line, old, new, sorted(old.indexes - new.indexes)))
    return changes
