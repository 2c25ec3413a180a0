"""`SchemaModel.dependencies`: pg_depend's edges between the application's named objects.

An edge is a pg_depend row: (catalog, oid, sub-id) of the dependent and of the referenced object.
Each such object is resolved once to the node the model names it by (`schema/depends.py`), with
its owner, the object whose change can rename it (`catalog.SCHEMA_DEPENDENCY_OBJECTS_SQL`); an
edge to an object outside the application (a built-in, an extension's) is left out.

`DependencyIndex.read` reads it whole. After a migration the incremental reader asks for a
`refresh`: only the pg_depend rows written since the last read are read, added to the last read's
when none was deleted (`catalog.SCHEMA_DEPENDENCY_EDGE_CHANGES_SQL` counts them; else all are read
again), and only new objects and those whose owner changed (or whose kind of object did: a
renamed type prints in every function signature using it) are resolved again — after a hundred
migrations on the clone, the objects query had been the larger part of reading the edges after
every one, then the edges themselves.
"""

from __future__ import annotations

from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader

Key = tuple[str, int, int]  # (catalog, oid, sub-id) as pg_depend names an object
Node = tuple[str, ...]
Edge = tuple[str, int, int, str, int, int]

# The catalogs an edge may name, each with the parameter of the objects query that asks for its oids.
_OID_PARAMETERS = {"pg_class": "class_oids", "pg_proc": "proc_oids", "pg_type": "type_oids",
                   "pg_rewrite": "rewrite_oids", "pg_policy": "policy_oids", "pg_trigger": "trigger_oids",
                   "pg_attrdef": "attrdef_oids", "pg_constraint": "constraint_oids"}
# Node kinds whose names print other objects' names (a function's signature its argument types;
# a domain or composite its own type): resolved again whenever that kind of object changed.
_KIND_CATEGORIES = {"function": "function", "type": "type"}


class DependencyIndex:
    """The raw edges and what each object on them resolves to."""

    def __init__(self) -> None:
        self._edges: list[Edge] = []  # as read whole (SCHEMA_DEPENDENCY_EDGES_SQL), until the first refresh
        self._direct: list[Edge] | None = None  # pg_depend's rows, one each (None: not counted yet)
        self._direct_keys: set[Key] = set()
        self._expression: list[Edge] = []
        self._nodes: dict[Key, tuple[Node | None, int]] = {}  # key → (node or None: not the application's, owner)

    @classmethod
    def read(cls, reader: CatalogReader) -> DependencyIndex:
        index = cls()
        index._edges = reader.tuples(q.SCHEMA_DEPENDENCY_EDGES_SQL)
        index._resolve(reader, _keys(index._edges))
        return index

    def refresh(self, reader: CatalogReader, *, changed: set[int], categories: set[str], since: str) -> None:
        """Read the edges again (those written since the xid `since`, when no edge was deleted);
        resolve again the objects that are new, whose owner is among the `changed` oids, or whose
        kind's category (`function`, `type`) is in `categories`."""
        rows = reader.tuples(q.SCHEMA_DEPENDENCY_EDGE_CHANGES_SQL, generic=True,
                             since=since if self._direct is not None else "2")
        written = [row[1:] for row in rows if row[0] == "written"]
        count = next(row[3] for row in rows if row[0] == "count")
        if self._direct is not None and count == len(self._direct) + len(written):
            self._direct += written
            self._direct_keys |= _keys(written)
        else:
            if self._direct is not None:  # some were deleted: all of them again
                rows = reader.tuples(q.SCHEMA_DEPENDENCY_EDGE_CHANGES_SQL, generic=True, since="2")
                written = [row[1:] for row in rows if row[0] == "written"]
            self._direct = written
            self._direct_keys = _keys(written)
        self._expression = [row[1:] for row in rows if row[0] == "expression"]
        self._edges = []
        keys = self._direct_keys | _keys(self._expression)
        for key in self._nodes.keys() - keys:
            del self._nodes[key]
        stale = {key for key, (node, owner) in self._nodes.items()
                 if owner in changed or key[1] in changed
                 or (node is not None and _KIND_CATEGORIES.get(node[0]) in categories)}
        self._resolve(reader, (keys - self._nodes.keys()) | stale, generic=True)

    def pairs(self) -> tuple[tuple[Node, Node], ...]:
        """(dependent, referenced) nodes, sorted, without self-references (a column's default on its column)."""
        nodes = self._nodes
        found = set()
        for catalog, objid, objsubid, ref_catalog, refobjid, refobjsubid in (
                self._edges if self._direct is None else (*self._direct, *self._expression)):
            dependent = nodes[(catalog, objid, objsubid)][0]
            referenced = nodes[(ref_catalog, refobjid, refobjsubid)][0]
            if dependent is not None and referenced is not None and dependent != referenced:
                found.add((dependent, referenced))
        return tuple(sorted(found))

    def _resolve(self, reader: CatalogReader, keys: set[Key], *, generic: bool = False) -> None:
        """`generic`: on a plan made once (a few keys after a migration; not thousands in a whole read)."""
        if not keys:
            return
        wanted: dict[str, list[int]] = {parameter: [] for parameter in _OID_PARAMETERS.values()}
        relids, attnums = [], []
        for catalog, oid, sub in sorted(keys):
            if catalog == "pg_class" and sub:
                relids.append(oid)
                attnums.append(sub)
            elif not sub:
                wanted[_OID_PARAMETERS[catalog]].append(oid)
        for key in keys:  # not found below: not the application's (its own oid stands for its owner)
            self._nodes[key] = (None, key[1])
        for catalog, objid, objsubid, kind, parts, owner in reader.tuples(
                q.SCHEMA_DEPENDENCY_OBJECTS_SQL, generic=generic, relids=relids, attnums=attnums, **wanted):
            self._nodes[(catalog, objid, objsubid)] = ((kind, *parts), owner)


def _keys(edges: list[Edge]) -> set[Key]:
    return {key for edge in edges for key in (edge[:3], edge[3:])}
