"""What uses what, between the objects of two schema models.

A node names an object as (kind, schema, name[, member]): ("table", "public", "t"), ("column",
"public", "t", "c"), ("view", …), ("function", "public", "f(integer)"), ("type", …), ("index",
"public", "i"), ("constraint" | "policy" | "trigger" | "rule", "public", "t", name). The edges
are PostgreSQL's own (pg_depend, read into `SchemaModel.dependencies`); the structural ones the
model states but pg_depend records as automatic (not read) are `structural_edges` (a partition
uses its parent, a foreign key the table it references, a column its collation). The diff asks
what a replaced object's users are (`Dependencies.users`); `schema/order.py` orders a change set
by the same edges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from migguard.core.identifiers import parse_qualified
from migguard.schema.model import Function, SchemaModel, Table, View

Node = tuple[str, ...]


def function_node(function: Function) -> Node:
    return ("function", function.schema_name, f"{function.name}({function.arguments})")


def relation_node(relation: Table | View) -> Node:
    return ("view" if isinstance(relation, View) else "table", relation.schema_name, relation.name)


class Dependencies:
    """The edges of one or more models: who uses a node, and what a node uses."""

    def __init__(self, *models: SchemaModel, extra: Iterable[tuple[Node, Node]] = ()) -> None:
        self._uses: dict[Node, set[Node]] = defaultdict(set)
        self._members: dict[tuple[str, ...], set[Node]] = defaultdict(set)  # (schema, table) → its columns' nodes
        for dependent, referenced in (*(edge for model in models for edge in model.dependencies), *extra):
            self._uses[dependent].add(referenced)
            if dependent[0] == "column":
                self._members[dependent[1:3]].add(dependent)
        self._users: dict[Node, set[Node]] | None = None  # made when first asked (`order` never asks)
        self._used_columns: dict[tuple[str, ...], set[Node]] = {}  # (schema, table) → its used columns' nodes

    def edges(self) -> Iterable[tuple[Node, set[Node]]]:
        return self._uses.items()

    def uses(self, node: Node) -> set[Node]:
        """What `node` uses; a table uses what its columns use (their types, a default's function, …):
        CREATE TABLE states them. Its constraints, indexes, policies … are changes of their own."""
        found = set(self._uses.get(node, ()))
        if node[0] == "table":
            for member in self._members.get(node[1:3], ()):
                found |= self._uses[member]
        return found - {node}

    def users(self, nodes: Iterable[Node]) -> set[Node]:
        """The nodes that use any of `nodes` directly; a table's users are also its columns' users."""
        users = self._users if self._users is not None else self._index_users()
        found: set[Node] = set()
        for node in set(nodes):
            found |= users.get(node, set())
            if node[0] == "table":
                for column in self._used_columns.get(node[1:3], ()):
                    found |= users[column]
        return found

    def _index_users(self) -> dict[Node, set[Node]]:
        users: dict[Node, set[Node]] = defaultdict(set)
        for dependent, used in self._uses.items():
            for referenced in used:
                users[referenced].add(dependent)
                if referenced[0] == "column":
                    self._used_columns.setdefault(referenced[1:3], set()).add(referenced)
        self._users = users
        return users

    def closure(self, nodes: Iterable[Node], kinds: tuple[str, ...]) -> set[Node]:
        """`nodes` plus, again and again, their users of `kinds` (views that read views, …)."""
        result, frontier = set(nodes), set(nodes)
        while frontier:
            frontier = {n for n in self.users(frontier) if n[0] in kinds} - result
            result |= frontier
        return result


@lru_cache(maxsize=1 << 16)  # the same few names, asked for by every rule of every change's order
def regclass_parts(text: str | None, parts: int = 2) -> tuple[str, ...] | None:
    """A name as PostgreSQL prints it (regclass text, `schema."Name"`; OWNED BY's `schema.table.column`:
    `parts` 3) as the catalog spells its parts; None when it is not that many (unqualified)."""
    if not text:
        return None
    try:
        return parse_qualified(text, parts)
    except ValueError:
        return None


def parent_nodes(table: Table) -> list[Node]:
    """The tables a partition or an INHERITS child is made from, as nodes (partition parent first)."""
    return [("table", *parts) for parts in map(regclass_parts, (table.partition_of, *table.inherits)) if parts]


def structural_edges(model: SchemaModel) -> tuple[tuple[Node, Node], ...]:
    """What uses what that pg_depend records only as an automatic or internal dependency (not read
    into `SchemaModel.dependencies`) but the model states: a partition or INHERITS child uses its
    parents, a foreign key the table it references, a column the collation it names."""
    edges: list[tuple[Node, Node]] = []
    collations: dict[str, list[Node]] = defaultdict(list)
    for collation in model.collations.values():
        collations[collation.name].append(("collation", collation.schema_name, collation.name))
    for table in model.tables.values():
        if table.partition_of or table.inherits:
            node = relation_node(table)
            edges += [(node, parent) for parent in parent_nodes(table)]
        for constraint in table.constraints.values():
            if constraint.kind == "foreign" and (parts := regclass_parts(constraint.references)) is not None:
                edges.append((("constraint", table.schema_name, table.name, constraint.name), ("table", *parts)))
        for column in table.columns.values() if collations else ():
            for collation in collations.get(column.collation or "", ()):
                edges.append((("column", table.schema_name, table.name, column.name), collation))
    return tuple(edges)
