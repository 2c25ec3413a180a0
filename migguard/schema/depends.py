"""What uses what, between the objects of two schema models, and the order of a change set by it.

A node names an object as (kind, schema, name[, member]): ("table", "public", "t"), ("column",
"public", "t", "c"), ("view", …), ("function", "public", "f(integer)"), ("type", …), ("index",
"public", "i"), ("constraint" | "policy" | "trigger" | "rule", "public", "t", name). The edges
are PostgreSQL's own (pg_depend, read into `SchemaModel.dependencies` by introspection); the
structural ones the model already states (a column or a member is its table's) are implied
here, so a hand-built model orders correctly without them.

`order` sorts changes with `graphlib.TopologicalSorter`: a change that creates an object comes
after the changes that create what it uses (edges of the after-model), a change that drops an
object comes before the changes that drop or replace what it used (edges of the before-model).
Where no edge decides, the changes keep their given rank (`Change.phase`, then their order).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from graphlib import CycleError, TopologicalSorter

from migguard.schema.model import Function, SchemaModel, Table, View

Node = tuple[str, ...]

# Kinds of change by the object they act on, and whether the forward SQL leaves it existing
# (creates), removes it (drops), or both (recreates: a drop and a create in one change).
_MEMBER_KINDS = {
    "column": ("add column", "drop column", "alter column type", "alter column default", "drop column default",
               "recreate generated column", "set not null", "drop not null", "alter column identity"),
    "constraint": ("add constraint", "drop constraint", "validate constraint"),
    "policy": ("create policy", "drop policy"),
    "trigger": ("create trigger", "drop trigger"),
    "rule": ("create rule", "drop rule", "replace rule", "recreate dependent rule"),
}
# A type change replaces its column for what reads it, but stands for nothing the column uses (its
# default, which it drops and sets again in one change: edges there would make a circle).
_USES_NOTHING = ("alter column type",)
_CREATES = ("create ", "add ", "recreate ", "replace ", "alter column type", "alter column default", "update ")
# ("recreate dependent …" only creates again what an earlier drop removed; a retyped column is
# replaced for what reads it)
_DROPS = ("drop ", "recreate function", "recreate procedure", "recreate type", "recreate domain",
          "recreate generated column", "alter column type")


def function_node(function: Function) -> Node:
    return ("function", function.schema_name, f"{function.name}({function.arguments})")


def relation_node(relation: Table | View) -> Node:
    return ("view" if isinstance(relation, View) else "table", relation.schema_name, relation.name)


class Dependencies:
    """The edges of one or more models: who uses a node, and what a node uses."""

    def __init__(self, *models: SchemaModel) -> None:
        self._uses: dict[Node, set[Node]] = defaultdict(set)
        self._users: dict[Node, set[Node]] = defaultdict(set)
        self._members: dict[tuple[str, ...], set[Node]] = defaultdict(set)  # (schema, table) → its columns' nodes
        for model in models:
            for dependent, referenced in model.dependencies:
                self._uses[dependent].add(referenced)
                self._users[referenced].add(dependent)
                if dependent[0] == "column":
                    self._members[dependent[1:3]].add(dependent)

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
        wanted = set(nodes)
        tables = {n[1:3] for n in wanted if n[0] == "table"}
        found = set()
        for referenced, dependents in self._users.items():
            if referenced in wanted or (referenced[0] == "column" and referenced[1:3] in tables):
                found |= dependents
        return found

    def closure(self, nodes: Iterable[Node], kinds: tuple[str, ...]) -> set[Node]:
        """`nodes` plus, again and again, their users of `kinds` (views that read views, …)."""
        result, frontier = set(nodes), set(nodes)
        while frontier:
            frontier = {n for n in self.users(frontier) if n[0] in kinds} - result
            result |= frontier
        return result


def change_node(kind: str, path: tuple[str, ...]) -> Node | None:
    """The node a change of `kind` on `path` acts on (None: a grant, a comment, …, nothing uses it)."""
    if not path:
        return None
    for node_kind, kinds in _MEMBER_KINDS.items():
        if kind in kinds:
            return (node_kind, *path) if len(path) == 3 else None
    word = kind.split()[-1]
    if word in ("table", "view", "sequence", "index"):
        return (word, *path[:2]) if kind.startswith(("create", "drop", "recreate")) else None
    if word in ("function", "procedure"):
        return ("function", *path[:2])
    if kind in ("create type", "drop type", "recreate type", "create domain", "drop domain", "recreate domain",
                "add enum value"):
        return ("type", *path[:2])
    return None


_INDEX_KINDS = ("create index", "drop index", "comment on index", "attach index")


def _keep_each_objects_order(graph: dict[int, set[int]], changes: Sequence, rank: Callable[[object], object],
                             before: SchemaModel, after: SchemaModel) -> None:
    """Structural edges: the changes of one table or view (its columns, constraints, indexes,
    policies …) keep their rank order, so that an edge holding one back holds back the ones
    ranked after it too (an index on a column that is added after the function its default calls)."""
    index_tables = {(relation.schema_name, index): (relation.schema_name, relation.name)
                    for model in (before, after) for relation in (*model.tables.values(), *model.views.values())
                    for index in relation.indexes}
    owners: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, change in enumerate(changes):
        if len(change.path) >= 2:
            owner = tuple(change.path[:2])
            owners[index_tables.get(owner, owner) if change.kind in _INDEX_KINDS else owner].append(index)
    for members in owners.values():
        members.sort(key=lambda i: (rank(changes[i]), i))
        previous: list[int] = []
        current: list[int] = []
        for i in members:
            if current and rank(changes[current[-1]]) != rank(changes[i]):
                previous, current = current, []
            current.append(i)
            graph[i].update(previous)


def _sorter(graph: dict[int, set[int]]) -> TopologicalSorter:
    """A prepared sorter of `graph`; a circle (the script could not order it either) is cut where
    it closes, one edge at a time, and the ranks decide there."""
    while True:
        sorter = TopologicalSorter(graph)
        try:
            sorter.prepare()
            return sorter
        except CycleError as error:
            cycle = error.args[1]  # each node a predecessor of the next, the first repeated last
            graph[cycle[1]].discard(cycle[0])


def order(changes: Sequence, rank: Callable[[object], object], before: SchemaModel, after: SchemaModel) -> list:
    """`changes` topologically sorted by the models' edges, `rank` deciding among the ready ones."""
    if len(changes) < 2:
        return list(changes)
    was, now = Dependencies(before), Dependencies(after)
    creators: dict[Node, list[int]] = defaultdict(list)
    droppers: dict[Node, list[int]] = defaultdict(list)
    nodes: list[Node | None] = []
    for index, change in enumerate(changes):
        node = change_node(change.kind, change.path)
        nodes.append(node)
        if node is None:
            continue
        if change.kind.startswith(_CREATES):
            creators[node].append(index)
        if change.kind.startswith(_DROPS):
            droppers[node].append(index)

    def found(table: dict[Node, list[int]], node: Node) -> list[int]:
        """The changes acting on `node`, or on the table it is a column or member of."""
        hits = list(table.get(node, ()))
        if len(node) == 4:
            hits += table.get(("table", *node[1:3]), ())
        return hits

    graph: dict[int, set[int]] = {index: set() for index in range(len(changes))}
    _keep_each_objects_order(graph, changes, rank, before, after)
    for index, node in enumerate(nodes):
        kind = changes[index].kind
        if node is None or kind in _USES_NOTHING:
            continue
        if kind.startswith(_CREATES):
            for used in now.uses(node):
                graph[index].update(i for i in found(creators, used) if i != index)
        if kind.startswith(_DROPS):
            for used in was.uses(node):
                for i in found(droppers, used):
                    if i != index:
                        graph[i].add(index)
    sorter = _sorter(graph)
    keys = [(rank(change), index) for index, change in enumerate(changes)]
    ready: list[tuple[object, int]] = []
    result = []
    while sorter.is_active():
        for index in sorter.get_ready():
            heapq.heappush(ready, keys[index])
        _, index = heapq.heappop(ready)
        result.append(changes[index])
        sorter.done(index)
    return result
