"""`SchemaModel.dependencies`: pg_depend's edges between the application's named objects.

An edge is a pg_depend row: (catalog, oid, sub-id) of the dependent and of the referenced object.
Each such object is resolved once to the node the model names it by (`schema/depends.py`), with
its owner, the object whose change can rename it (`catalog._dependency_objects`); an
edge to an object outside the application (a built-in, an extension's) is left out.

`DependencyIndex.read` reads it whole. After a migration the incremental reader asks for a
`refresh`: the edges are read whole again (one scan of pg_depend), but only new objects and those
whose owner changed (or whose kind of object did: a renamed type prints in every function
signature using it) are resolved again — after a hundred migrations on the clone, the objects
query had been the larger part of reading the edges after every one.
"""

from __future__ import annotations

from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader

Key = tuple[str, int, int]  # (catalog, oid, sub-id) as pg_depend names an object
Node = tuple[str, ...]
Edge = tuple[str, int, int, str, int, int]

# Node kinds whose names print other objects' names (a function's signature its argument types;
# a domain or composite its own type): resolved again whenever that kind of object changed.
_KIND_CATEGORIES = {"function": "function", "type": "type"}


class DependencyIndex:
    """The raw edges and what each object on them resolves to."""

    def __init__(self) -> None:
        self._edges: list[Edge] = []
        self._nodes: dict[Key, tuple[Node | None, int]] = {}  # key → (node or None: not the application's, owner)

    @classmethod
    def read(cls, reader: CatalogReader) -> DependencyIndex:
        index = cls()
        index._edges = reader.tuples(q.SCHEMA_DEPENDENCY_EDGES_SQL)
        index._store(_keys(index._edges), reader.tuples(q.SCHEMA_DEPENDENCY_ALL_OBJECTS_SQL))
        return index

    def refresh(self, reader: CatalogReader, *, changed: set[int], categories: set[str]) -> None:
        """Read the edges again; resolve again the objects that are new, whose owner is among the
        `changed` oids, or whose kind's category (`function`, `type`) is in `categories`."""
        self._edges = reader.tuples(q.SCHEMA_DEPENDENCY_EDGES_SQL)
        keys = _keys(self._edges)
        self._nodes = {key: value for key, value in self._nodes.items() if key in keys}
        stale = {key for key, (node, owner) in self._nodes.items()
                 if owner in changed or key[1] in changed
                 or (node is not None and _KIND_CATEGORIES.get(node[0]) in categories)}
        self._resolve(reader, (keys - self._nodes.keys()) | stale)

    def pairs(self) -> tuple[tuple[Node, Node], ...]:
        """(dependent, referenced) nodes, sorted, without self-references (a column's default on its column)."""
        nodes = self._nodes
        found = set()
        for catalog, objid, objsubid, ref_catalog, refobjid, refobjsubid in self._edges:
            dependent = nodes[(catalog, objid, objsubid)][0]
            referenced = nodes[(ref_catalog, refobjid, refobjsubid)][0]
            if dependent is not None and referenced is not None and dependent != referenced:
                found.add((dependent, referenced))
        return tuple(sorted(found))

    def _resolve(self, reader: CatalogReader, keys: set[Key]) -> None:
        if not keys:
            return
        wanted: dict[str, list[int]] = {parameter: [] for parameter in q.DEPENDENCY_OID_PARAMETERS.values()}
        relids, attnums = [], []
        for catalog, oid, sub in sorted(keys):
            if catalog == "pg_class" and sub:
                relids.append(oid)
                attnums.append(sub)
            elif not sub:
                wanted[q.DEPENDENCY_OID_PARAMETERS[catalog]].append(oid)
        self._store(keys, reader.tuples(q.SCHEMA_DEPENDENCY_OBJECTS_SQL, relids=relids, attnums=attnums, **wanted))

    def _store(self, keys: set[Key], found: list[tuple]) -> None:
        """`keys` resolved by `found`, the objects query's rows; a key it has no row for is not the
        application's (its own oid stands for its owner)."""
        nodes = self._nodes
        nodes.update((key, (None, key[1])) for key in keys)
        for catalog, objid, objsubid, kind, parts, owner in found:
            nodes[(catalog, objid, objsubid)] = ((kind, *parts), owner)


def _keys(edges: list[Edge]) -> set[Key]:
    return {key for edge in edges for key in (edge[:3], edge[3:])}
