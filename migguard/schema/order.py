"""The order of a change set: a topological sort of its changes by named edge rules.

Nodes, and what uses what, are `schema/depends.py`'s.

`order` sorts a change set with `graphlib.TopologicalSorter` over vertices: each change is one,
named by the object it acts on (`_Objects.subject`) and what it does to it (`action`: CREATE,
DROP, REPLACE, ALTER, or LEAVE for a change on the object as it was). Each rule below adds the
edges one fact of PostgreSQL implies, and says which:
- `_lifecycle`: one object's changes (left, dropped, created again, altered);
- `_containment`: a schema, table or view before its parts are set up, after they are torn down;
- `_uses`: pg_depend's and the structural edges (after-model for setups, before-model for teardowns);
- `_table_structure`: a table's constraints, indexes, policies … use its columns;
- `_foreign_keys`: a foreign key uses the keys of the table it references;
- `_ownership`: OWNED BY uses its column; `_partitions`: PARTITION OF and ATTACH INDEX;
- `_names`: tables, views, sequences, indexes and types share a namespace: freed before taken;
- `_leaf_objects`, `_statistics`: extensions, collations, statistics, whose users no read edge names;
- `_enum_values`: ADD VALUE first, its reverse (a rebuilt type) last.
Where no edge decides, no rank does either: among the changes ready at once, teardown goes
before setup, then the order the change builders emitted (each object's changes as built).
A circle (the script could not run it either) is cut where it closes.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence
from graphlib import CycleError, TopologicalSorter

from migguard.core.identifiers import object_key
from migguard.schema.depends import Dependencies, Node, parent_nodes, regclass_parts, relation_node, structural_edges
from migguard.schema.model import Constraint, SchemaModel

# Kinds of change on a member of a table (path: schema, table, member), by the member's kind.
_MEMBER_KINDS = {
    "column": ("add column", "drop column", "alter column type", "alter column default", "drop column default",
               "recreate generated column", "set not null", "drop not null", "alter column identity",
               "comment on column", "alter column statistics", "add not null check"),
    "constraint": ("add constraint", "drop constraint", "validate constraint", "comment on constraint"),
    "policy": ("create policy", "drop policy"),
    "trigger": ("create trigger", "drop trigger", "alter trigger state"),
    "rule": ("create rule", "drop rule", "replace rule", "recreate dependent rule"),
}
# A type change replaces its column for what reads it, but of what the column uses it stands only for
# its type and collation (not its default, which it drops and sets again in one change: edges there
# would make a circle).
_USES_ONLY_TYPES = ("alter column type",)
# Alters that give an object a new definition what uses it may need (a new enum value, attribute or
# default, a replaced body, an updated extension): set up before its users, like a create.
_REDEFINES = frozenset({"add enum value", "add domain constraint", "add attribute", "replace function",
                        "replace procedure", "alter column default", "update extension"})
_INDEX_KINDS = ("create index", "drop index", "comment on index", "attach index")


# What a change does to the object it acts on (its vertex's action).
CREATE, DROP, REPLACE, ALTER, LEAVE = "create", "drop", "replace", "alter", "leave"
_OBJECT_WORDS = ("schema", "extension", "type", "domain", "collation", "sequence", "function", "procedure", "table",
                 "view", "column", "constraint", "index", "policy", "trigger", "rule", "statistics")
_DROP_KINDS = frozenset(f"drop {word}" for word in _OBJECT_WORDS)
_CREATE_KINDS = frozenset({f"create {word}" for word in _OBJECT_WORDS} | {"add column", "add constraint", "replace rule"}
                          | {f"recreate dependent {word}" for word in ("view", "rule", "function", "procedure")})
_REPLACE_KINDS = frozenset({"recreate type", "recreate domain", "recreate function", "recreate procedure",
                            "recreate generated column", "alter column type"})
_GRANT_KINDS = ("grant", "revoke", "grant option", "revoke option")
_TABLE_KINDS = frozenset({"create table", "drop table", "comment on table", "alter table owner", "enable row level security",
                          "disable row level security", "force row level security", "no force row level security",
                          "revoke default privileges", "set unlogged", "set logged", "alter table options",
                          "alter replica identity", "inherit", "no inherit", "attach partition", "detach partition"})
# Table-level steps that need the table's columns, constraints and indexes as they will be
# (INHERIT checks the parent's columns and CHECKs; REPLICA IDENTITY USING INDEX names an index).
_NEEDS_MEMBERS = frozenset({"inherit", "attach partition", "alter replica identity"})


def action(change) -> str:
    """CREATE, DROP, REPLACE (a drop and a create in one change, for what uses the object), LEAVE
    (acts on the object as it was, before it or what it uses goes: `Change.leaving`) or ALTER."""
    if change.leaving:
        return LEAVE
    if change.kind in _DROP_KINDS:
        return DROP
    if change.kind in _CREATE_KINDS:
        return CREATE
    if change.kind in _REPLACE_KINDS:
        return REPLACE
    return ALTER


class _Objects:
    """What the two models say about the objects changes name: which relation owns an index, what
    kind of object a (schema, name) path is, which relation names a table or a constraint takes."""

    def __init__(self, before: SchemaModel, after: SchemaModel) -> None:
        self.models = (before, after)
        self.index_owner: dict[tuple[str, str], Node] = {}
        self.kinds: dict[tuple[str, str], str] = {}
        for model in (before, after):
            for kind, relations in (("table", model.tables), ("view", model.views)):
                for relation in relations.values():
                    if relation.indexes:
                        owner = (kind, relation.schema_name, relation.name)
                        self.index_owner.update(((relation.schema_name, index), owner) for index in relation.indexes)
            for category, kind in (("tables", "table"), ("views", "view"), ("sequences", "sequence"),
                                   ("enums", "type"), ("domains", "type"), ("composites", "type")):
                self.kinds.update(((thing.schema_name, thing.name), kind) for thing in getattr(model, category).values())

        self.parents: dict[Node, list[Node]] = defaultdict(list)  # a partition's or INHERITS child's
        for model in (before, after):
            for t in model.tables.values():
                if t.partition_of or t.inherits:
                    self.parents[relation_node(t)] += parent_nodes(t)

    def lineage(self, table: Node, seen: frozenset = frozenset()) -> list[Node]:
        """The table, its parents, theirs …"""
        return [table] + [n for parent in self.parents.get(table, ()) if parent not in seen
                          for n in self.lineage(parent, seen | {table})]

    def subject(self, change) -> Node | None:
        """The node of the object `change` acts on (a grant, a comment: the object they are on)."""
        kind, path = change.kind, tuple(change.path)
        if not path:
            return None
        if len(path) == 1:
            return ("extension" if "extension" in kind else "schema", path[0])
        for node_kind, kinds in _MEMBER_KINDS.items():
            if kind in kinds and len(path) == 3:
                return (node_kind, *path)
        if kind in _INDEX_KINDS:
            return ("index", *path[:2])
        if kind in _TABLE_KINDS:
            return ("table", *path[:2])
        words = kind.split()
        if "statistics" in words:
            return ("statistics", *path[:2])
        if "collation" in words:
            return ("collation", *path[:2])
        if "sequence" in words:
            return ("sequence", *path[:2])
        if "view" in words:
            return ("view", *path[:2])
        if words[-1] in ("function", "procedure", "aggregate") or (kind in _GRANT_KINDS and "(" in path[1]):
            return ("function", *path[:2])
        if words[-1] in ("type", "domain", "value", "attribute") or kind.startswith(("alter domain", "add domain",
                                                                                      "drop domain")):
            return ("type", *path[:2])
        return (self.kinds.get(path[:2], "table"), *path[:2])

    def container(self, node: Node) -> Node | None:
        """What a node is part of: a member its table (an index its relation, a rule its table or
        view), an object in a schema its schema, an extension its schema."""
        if node[0] == "schema":
            return None
        if node[0] == "extension":
            for model in self.models:
                if node[1] in model.extensions:
                    return ("schema", model.extensions[node[1]].schema_name)
            return None
        if len(node) == 4:
            relation = self.kinds.get(node[1:3], "table")
            return ("view" if relation == "view" else "table", *node[1:3])
        if node[0] == "index" and node[1:3] in self.index_owner:
            return self.index_owner[node[1:3]]
        return ("schema", node[1])

    def names(self, change, act: str, node: Node) -> set[tuple[str, str]]:
        """The relation names (one namespace per schema: tables, views, sequences, indexes, types)
        that `change` takes (CREATE) or frees (DROP)."""
        model = self.models[1] if act == CREATE else self.models[0]
        kind, schema = node[0], node[1]
        if kind in ("table", "view") and change.kind in (f"create {kind}", f"drop {kind}"):
            relation = (model.tables if kind == "table" else model.views).get(object_key(*node[1:3]))
            names = {node[1:3]}
            # a table's indexes go with it; a view's are created with it
            if relation is not None and (kind == "view" or act == DROP):
                names |= {(schema, index) for index in relation.indexes}
            return names
        if kind in ("sequence", "index", "type") and change.kind in (f"create {kind}", f"drop {kind}", "create domain",
                                                                    "drop domain"):
            return {node[1:3]}
        if kind == "constraint":
            constraint = _constraint(model, node)
            if constraint is not None and constraint.kind in ("primary", "unique", "exclusion"):
                table = model.tables[object_key(*node[1:3])]
                backing = [i for i in table.indexes.values() if i.constraint == node[3]]
                return {(schema, i.name) for i in backing} or {(schema, node[3])}
        return set()


class _Graph:
    """The changes as vertices (`_Objects.subject`, `action`) and the edges between them, each
    added by a named rule of `order`."""

    def __init__(self, changes: Sequence, objects: _Objects) -> None:
        self.changes = changes
        self.edges: dict[int, set[int]] = {index: set() for index in range(len(changes))}  # vertex → its predecessors
        self.nodes: list[Node | None] = []
        self.actions: list[str] = []
        self.by: dict[tuple[Node, str], list[int]] = defaultdict(list)
        self.members: dict[Node, list[int]] = defaultdict(list)  # container → the changes of its parts
        for index, change in enumerate(changes):
            node = objects.subject(change)
            act = action(change)
            self.nodes.append(node)
            self.actions.append(act)
            if node is None:
                continue
            self.by[(node, act)].append(index)
            if node[0] == "constraint" and act in (CREATE, DROP):  # a key constraint makes or drops its index too
                for name in objects.names(change, act, node):
                    self.by[(("index", *name), act)].append(index)
            part = node
            while (whole := objects.container(part)) is not None:
                self.members[whole].append(index)
                part = whole

    def of(self, node: Node, *acts: str) -> list[int]:
        return [i for act in acts for i in self.by.get((node, act), ())]

    def before(self, first: Iterable[int], then: Iterable[int]) -> None:
        then = list(then)
        for i in first:
            for j in then:
                if i != j:
                    self.edges[j].add(i)


SETUP = (CREATE, REPLACE, ALTER)  # acts on the object as it will be
TEARDOWN = (DROP, LEAVE)  # acts on the object as it was


def _lifecycle(graph: _Graph) -> None:
    """One object's changes: it is left before it is dropped, replaced or made anew; dropped before
    it is created again (its name is free then); created or replaced before it is altered; altered
    before it is dropped, when nothing creates it again."""
    for node in {n for n in graph.nodes if n is not None}:
        graph.before(graph.of(node, LEAVE), graph.of(node, DROP, REPLACE, CREATE, ALTER))
        graph.before(graph.of(node, DROP), graph.of(node, CREATE, REPLACE))
        graph.before(graph.of(node, CREATE, REPLACE), graph.of(node, ALTER))
        if not graph.of(node, CREATE):
            graph.before(graph.of(node, ALTER), graph.of(node, DROP))


def _containment(graph: _Graph) -> None:
    """A schema, a table or a view exists before its parts are set up, and goes after they are
    torn down (DROP SCHEMA refuses while it holds objects; a member cannot be dropped after its
    table, nor created before it)."""
    for whole, parts in graph.members.items():
        graph.before(graph.of(whole, CREATE), (i for i in parts if graph.actions[i] in SETUP))
        graph.before((i for i in parts if graph.actions[i] in TEARDOWN), graph.of(whole, DROP))


def _uses(graph: _Graph, objects: _Objects, was: Dependencies, now: Dependencies) -> None:
    """pg_depend's edges and the structural ones: an object is set up after what it uses is created,
    replaced or redefined (edges of the after-model); torn down or altered before what it used is
    dropped or replaced (edges of the before-model). A column stands for its table's CREATE TABLE, and a table for its columns; a
    dropped table also for its members (DROP TABLE takes its triggers, policies, indexes … along)."""
    # (a member dropped by a change of its own, or with its parent table's constraint of the same
    # name, as a partition's foreign key is, has gone before its table goes; a constraint the model
    # does not hold, made by PostgreSQL for a referenced partition, goes with the one it was made for)
    dropped = {node for node, act in graph.by if act == DROP and node[0] == "constraint"}
    wholes = {node for node, act in graph.by if act == DROP and node[0] in ("table", "view")}  # what parts_use is asked of
    parts_use: dict[Node, set[Node]] = defaultdict(set)
    for dependent, used in was.edges() if wholes else ():
        whole = objects.container(dependent) if dependent[0] not in ("table", "view") else None
        if whole not in wholes:
            continue
        if dependent[0] == "constraint" and (_constraint(objects.models[0], dependent) is None or any(
                ("constraint", *t[1:], dependent[3]) in dropped for t in objects.lineage(whole))):
            continue
        parts_use[whole] |= used
    creators: dict[Node, list[int]] = defaultdict(list)
    droppers: dict[Node, list[int]] = defaultdict(list)
    for index, change in enumerate(graph.changes):
        node = graph.nodes[index]
        if node is None:
            continue
        if graph.actions[index] in (CREATE, REPLACE) or change.kind in _REDEFINES:
            creators[node].append(index)
        if graph.actions[index] in (DROP, REPLACE):
            droppers[node].append(index)

    def found(table: dict[Node, list[int]], node: Node) -> list[int]:
        hits = list(table.get(node, ()))
        if len(node) == 4:
            hits += table.get(("table", *node[1:3]), ())
        return hits

    leaving = {node for node, act in graph.by if act == LEAVE}
    for index, node in enumerate(graph.nodes):
        kind, act = graph.changes[index].kind, graph.actions[index]
        if node is None:
            continue
        if act in SETUP:
            for used in _used(now, node, kind):
                graph.edges[index].update(i for i in found(creators, used) if i != index)
        # an alter may end a use (a new default, a new type): before what was used goes, unless
        # a change of its own leaves the old use first (a default dropped apart)
        if act in (DROP, LEAVE, REPLACE) or (act == ALTER and node not in leaving):
            for used in _used(was, node, kind) | (parts_use.get(node, set()) if act == DROP else set()):
                for i in found(droppers, used):
                    if i != index and (act != ALTER or graph.actions[i] == DROP):
                        graph.edges[i].add(index)


def _used(deps: Dependencies, node: Node, kind: str) -> set[Node]:
    used = deps.uses(node)
    return {n for n in used if n[0] in ("type", "collation")} if kind in _USES_ONLY_TYPES else used


def _table_structure(graph: _Graph, objects: _Objects) -> None:
    """A table's constraints, indexes, policies, triggers and rules use its columns (pg_depend
    records that as automatic, not read): set up after the columns are, torn down before they
    are dropped or replaced, the parents' columns too (a partition's or child's columns are its
    parents': DROP COLUMN on the parent takes the child's indexes along). Leaving a parent (NO
    INHERIT, DETACH) comes before the columns change; INHERIT, ATTACH PARTITION and REPLICA
    IDENTITY come once the members are final, the parents' too."""
    lineage = objects.lineage

    columns: dict[Node, list[int]] = defaultdict(list)
    others: dict[Node, list[int]] = defaultdict(list)
    table_steps: dict[Node, list[int]] = defaultdict(list)
    for index, node in enumerate(graph.nodes):
        if node is None:
            continue
        if len(node) == 4:
            (columns if node[0] == "column" else others)[("table", *node[1:3])].append(index)
        elif node[0] == "index" and node[1:3] in objects.index_owner:
            others[objects.index_owner[node[1:3]]].append(index)
        elif node[0] == "table":
            table_steps[node].append(index)
    acts = graph.actions
    for table, members in others.items():
        graph.before((i for i in columns.get(table, ()) if acts[i] in SETUP), (i for i in members if acts[i] in SETUP))
        graph.before((i for i in members if acts[i] in TEARDOWN),
                     (i for whole in lineage(table) for i in columns.get(whole, ()) if acts[i] in (DROP, REPLACE)))
    for table, steps in table_steps.items():
        graph.before((i for i in steps if acts[i] == LEAVE), columns.get(table, ()))
        needing = [i for i in steps if graph.changes[i].kind in _NEEDS_MEMBERS]
        if not needing:
            continue
        for whole in lineage(table):
            graph.before((i for i in [*columns.get(whole, ()), *others.get(whole, ())] if acts[i] in SETUP), needing)


def _ownership(graph: _Graph, objects: _Objects) -> None:
    """A sequence's OWNED BY names a column (pg_depend: automatic, not read), which only the
    ownership change uses, not the sequence (a serial column's default uses the sequence): owned
    once the column is created; detached before the column or its table goes."""
    for index, change in enumerate(graph.changes):
        if change.kind != "alter sequence owner":
            continue
        model = objects.models[0 if change.leaving else 1]
        sequence = model.sequences.get(object_key(*change.path))
        column = regclass_parts(sequence.owned_by if sequence is not None else None, 3)
        if column is None:
            continue
        table = ("table", *column[:2])
        if change.leaving:
            graph.before([index], graph.of(("column", *column), DROP, REPLACE) + graph.of(table, DROP))
        else:
            graph.before([*graph.of(("column", *column), CREATE, REPLACE), *graph.of(table, CREATE)], [index])


def _partitions(graph: _Graph, objects: _Objects) -> None:
    """A partition the diff creates is created before its parent's new constraints and indexes:
    those are made ON ONLY the parent and the partition's own attached to them
    (`ddl_partitions`); created after them, PARTITION OF would make copies whose names the diff's
    own changes then take."""
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, node in enumerate(graph.nodes):
        if node is not None and graph.actions[index] == CREATE and node[0] in ("constraint", "index"):
            owner = node[1:3] if node[0] == "constraint" else objects.index_owner.get(node[1:3], ("",) * 3)[1:3]
            members[owner].append(index)
    for table in objects.models[1].tables.values():
        parent = regclass_parts(table.partition_of)
        if parent is not None:
            graph.before(graph.of(relation_node(table), CREATE), members.get(parent, ()))
        # ATTACH of an index to its parent's, once both exist
        for index in table.indexes.values():
            parent_index = regclass_parts(index.parent)
            if parent_index is not None:
                graph.before(graph.of(("index", *parent_index), CREATE, REPLACE),
                             graph.of(("index", table.schema_name, index.name), ALTER))


def _foreign_keys(graph: _Graph, objects: _Objects) -> None:
    """A foreign key uses the unique constraint or index of the table it references (pg_depend
    names the index, which a constraint's change does not): added after the referenced table's
    keys are, dropped before they are."""
    keys: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, node in enumerate(graph.nodes):
        if node is not None and node[0] in ("constraint", "index"):
            owner = node[1:3] if node[0] == "constraint" else objects.index_owner.get(node[1:3], ("",) * 3)[1:3]
            keys[owner].append(index)
    for side, (model, acts) in enumerate(((objects.models[0], TEARDOWN), (objects.models[1], SETUP))):
        # the foreign keys a change adds or drops (on this side's model), and those changes
        changed: dict[Node, list[int]] = defaultdict(list)
        for (node, act), found in graph.by.items():
            if node[0] == "constraint" and act in acts:
                changed[node] += (i for i in found if graph.changes[i].kind in ("add constraint", "drop constraint"))
        foreign = []
        for node, fk in changed.items():
            constraint = _constraint(model, node) if fk else None
            if constraint is not None and constraint.kind == "foreign" and (
                    parts := regclass_parts(constraint.references)) is not None:
                foreign.append((model.tables[object_key(*node[1:3])], fk, parts))
        if not foreign:
            continue
        partitions: dict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
        for table in model.tables.values():
            parent = regclass_parts(table.partition_of)
            if parent is not None:
                partitions[parent].append((table.schema_name, table.name))

        def tree(name: tuple[str, ...]) -> list[tuple[str, ...]]:
            """A table and its partitions, theirs too: a key ON ONLY a partitioned table is valid
            once every partition's index is attached to it."""
            return [name] + [n for child in partitions.get(name, ()) for n in tree(child)]

        for table, fk, parts in foreign:
            referenced = [i for name in tree(parts) for i in keys.get(name, ()) if graph.actions[i] in acts
                          and i not in fk and graph.changes[i].kind in ("add constraint", "drop constraint",
                                                                        "create index", "drop index", "attach index")
                          and not _is_foreign(graph.nodes[i], model)]
            if side == 0:
                graph.before(fk, referenced)
            else:
                # and after its own table's new indexes: its validation, and every later check of
                # a referenced row's delete, looks the referencing columns up by one
                own = [i for i in keys.get((table.schema_name, table.name), ()) if graph.changes[i].kind
                       == "create index"]
                graph.before(referenced + own, fk)


def _constraint(model: SchemaModel, node: Node) -> Constraint | None:
    """The constraint a ("constraint", schema, table, name) node names in `model`, if it holds it."""
    table = model.tables.get(object_key(*node[1:3]))
    return table.constraints.get(node[3]) if table is not None else None


def _is_foreign(node: Node, model: SchemaModel) -> bool:
    constraint = _constraint(model, node) if node[0] == "constraint" else None
    return constraint is not None and constraint.kind == "foreign"


def _names(graph: _Graph, objects: _Objects) -> None:
    """Tables, views, sequences, indexes and types share one namespace per schema: a change that
    takes a name comes after the change that frees it (an index name freed by a dropped or
    renamed table, a constraint's index name taken by a new table's key)."""
    freed: dict[tuple[str, str], list[int]] = defaultdict(list)
    taken: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, node in enumerate(graph.nodes):
        act = graph.actions[index]
        if node is None or act not in (CREATE, DROP):
            continue
        for name in objects.names(graph.changes[index], act, node):
            (taken if act == CREATE else freed)[name].append(index)
    for name, takers in taken.items():
        graph.before(freed.get(name, ()), takers)


def _leaf_objects(graph: _Graph) -> None:
    """Extensions and collations: what uses them (a column of an extension's type, a default
    calling its function, a column's COLLATE) is recorded by no edge the model reads, so they are
    created or updated before every other change of an object in a schema, and dropped after every
    other object is torn down (between an extension and a collation no rule decides: as built,
    extensions first)."""
    leaves = [i for i, n in enumerate(graph.nodes) if n is not None and n[0] in ("extension", "collation")]
    others = [i for i, n in enumerate(graph.nodes) if n is not None and n[0] not in ("extension", "collation", "schema")]
    acts = graph.actions
    graph.before((i for i in leaves if acts[i] in SETUP), (i for i in others if acts[i] in SETUP))
    graph.before((i for i in others if acts[i] in TEARDOWN), (i for i in leaves if acts[i] == DROP))


def _statistics(graph: _Graph) -> None:
    """Extended statistics name their table only in their definition (pg_depend: automatic, not
    read): created once every column and table is, dropped before any column or table goes (DROP
    TABLE would take them along)."""
    acts = graph.actions
    statistics = [i for i, n in enumerate(graph.nodes) if n is not None and n[0] == "statistics"]
    if statistics:
        tables = [i for i, n in enumerate(graph.nodes) if n is not None and n[0] in ("column", "table")]
        graph.before((i for i in tables if acts[i] in (CREATE, REPLACE)), (i for i in statistics if acts[i] in SETUP))
        graph.before((i for i in statistics if acts[i] in TEARDOWN), (i for i in tables if acts[i] in (DROP, REPLACE)))


def _enum_values(graph: _Graph) -> None:
    """ADD VALUE cannot be undone: its reverse recreates the type and converts the before-model's
    columns (and recreates the views that read them), so it runs last in the rollback, and first
    here: before anything is torn down."""
    added = [i for i, change in enumerate(graph.changes) if change.kind == "add enum value"]
    if added:
        graph.before(added, (i for i, act in enumerate(graph.actions) if act in (DROP, LEAVE, REPLACE)))


def _sorter(graph: dict[int, set[int]]) -> TopologicalSorter:
    """A prepared sorter of `graph`; a circle (the script could not order it either) is cut where
    it closes, one edge at a time."""
    while True:
        sorter = TopologicalSorter(graph)
        try:
            sorter.prepare()
            return sorter
        except CycleError as error:
            cycle = error.args[1]  # each node a predecessor of the next, the first repeated last
            graph[cycle[1]].discard(cycle[0])


def order(changes: Sequence, before: SchemaModel, after: SchemaModel) -> list:
    """`changes` topologically sorted by the rules' edges. Among the changes ready at once, what
    tears down goes before what sets up (a drop frees names and uses, never needs what a create
    makes), then the one built first (each object's changes as its builder emits them)."""
    if len(changes) < 2:
        return list(changes)
    objects = _Objects(before, after)
    graph = _Graph(changes, objects)
    was = Dependencies(before, extra=structural_edges(before))
    now = Dependencies(after, extra=structural_edges(after))
    _lifecycle(graph)
    _containment(graph)
    _uses(graph, objects, was, now)
    _table_structure(graph, objects)
    _foreign_keys(graph, objects)
    _ownership(graph, objects)
    _partitions(graph, objects)
    _names(graph, objects)
    _leaf_objects(graph)
    _statistics(graph)
    _enum_values(graph)
    sorter = _sorter(graph.edges)
    keys = [(graph.actions[index] not in TEARDOWN, index) for index in range(len(changes))]
    ready: list[tuple[bool, int]] = []
    result = []
    while sorter.is_active():
        for index in sorter.get_ready():
            heapq.heappush(ready, keys[index])
        _, index = heapq.heappop(ready)
        result.append(changes[index])
        sorter.done(index)
    return result
