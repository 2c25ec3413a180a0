"""Read a database's schema again after a migration, reading only what changed since the last read.

The plan replays each pending migration on the clone and diffs the schema before and after it;
reading the whole catalog after every one of a hundred migrations was most of the plan's time.
`IncrementalReader.read()` reads the whole schema once; each later read asks the catalog which
rows changed and patches the previous model (a new SchemaModel: the old one stays intact).

What changed is known from the catalog itself, not from the migration's text or its lock trace
(a CONCURRENTLY statement runs outside a transaction, so its locks are gone when a trace looks;
a function may change what it is called from): every row an object's model is read from has a
row version (xmin), and `catalog.OBJECT_VERSIONS_SQL` and `catalog.RELATION_VERSIONS_SQL`
aggregate them per object, so an object is re-read when any of its rows is new, rewritten or
deleted. Hashing every relation's rows after every migration was the larger part of a read, so
only the candidates `catalog.RELATION_CHANGES_SQL` names are hashed again (a row of theirs written
since the last read's snapshot, or a member removed: their count of pg_depend rows or comments
changed); the others keep their versions. Objects whose printed definitions name
a changed object (a view of a renamed table, a foreign key to it, a default calling a renamed
sequence, a regclass constant naming a renamed index, a field of a renamed composite attribute,
a constant of an array, domain, composite, range or multirange type built on an enum whose label
was renamed: `catalog.BUILT_ON_ENUMS_SQL`) are re-read too, one level down pg_depend
(`catalog.DEPENDENTS_SQL`); of a relation they print only its names (schema, name, columns',
indexes'), so its dependents are re-read when those changed, not on any change of it. Operators,
operator classes, text search configurations and dictionaries and languages are fingerprinted
for that alone (the model holds none of them, but views, constraints, indexes and functions print
their names). A partition bound records no dependency on its values' type: when a type changes
(an enum label renamed), the partitions whose bounds may print it are re-read
(`catalog.PARTITIONS_BY_TYPES_SQL`). The model's dependency edges
(`SchemaModel.dependencies`: named objects on both sides) are read again whenever anything changed,
the objects on them named anew only where what could rename them changed (`pg/dependencies.py`).

Falls back to a full read (and says why, in `last_full_read`) when that cannot be traced:
- a schema renamed: every object in it and every object naming one of them prints differently,
  more than one level of dependencies away;
- a role renamed or dropped: owners and grants anywhere print its name;
- an existing object joined or left an extension (ALTER EXTENSION ADD/DROP): its rows do not change;
- the caller says so (`full=True`): the plan does for migrations that run VACUUM or CLUSTER, which
  may freeze catalog rows (a frozen row shows no version of its own).
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader
from migguard.pg.introspect import (
    CATEGORY_READS, catalog_snapshot, read_categories, read_relations, read_sequences, read_whole,
)
from migguard.pg.dependencies import DependencyIndex
from migguard.schema.model import SchemaModel

# Statement kinds that can freeze catalog rows (a frozen row's version is no longer its writer's).
FREEZING_STATEMENTS = frozenset({"VacuumStmt", "ClusterStmt"})

# Groups of the versions queries whose objects others may name in their printed definitions.
_NAMED_GROUPS = frozenset({"relation names", "sequence", "function", "type", "rowtype", "statistics", "collation", "rule",
                           "operator", "opclass", "tsconfig", "tsdict", "language"})


def needs_full_read(node_kinds: Iterable[str]) -> bool:
    """Whether a migration with statements of these kinds (PostgreSQL's parse nodes) must be read whole."""
    return any(kind in FREEZING_STATEMENTS for kind in node_kinds)


class IncrementalReader:
    """The schema of the database on `conn`, read whole once and then patched after each change."""

    def __init__(self, conn: psycopg.Connection, *, exclude_schemas: tuple[str, ...] = ()) -> None:
        self.conn = conn
        self.exclude_schemas = exclude_schemas
        self.model: SchemaModel | None = None
        self.full_reads = 0
        self.partial_reads = 0
        self.last_full_read = ""  # why the last read was a full one ("" when it was a partial one)
        self._versions: dict[tuple[str, int], str] = {}
        self._since = self._next_since = "2"  # rows written since the last read have xids at least this new (2: all)
        self._counts: dict[tuple[str, int], int] = {}  # RELATION_CHANGES_SQL's per relation counts at the last read
        self._next_counts = self._counts
        self._objects: dict[int, tuple[str, str]] = {}  # oid → ("tables" | "views" | "sequences", key)
        self._graph = DependencyIndex()

    def read(self, *, full: bool = False) -> SchemaModel:
        """The schema now: read whole the first time (or when `full`), else the previous model patched."""
        with catalog_snapshot(self.conn, self.exclude_schemas, pipelined=True) as reader:
            rows, changes = reader.tuples_many([(q.OBJECT_VERSIONS_SQL, {}),
                                                (q.RELATION_CHANGES_SQL, {"since": self._since})], generic=True)
            versions = {(group, oid): version for group, oid, version in rows if group != "current_user"}
            role = next(version for group, _, version in rows if group == "current_user")
            versions.update(self._relation_versions(reader, changes, whole=self.model is None or full))
            reason = ("first read" if self.model is None else "asked for" if full
                      else self._untraceable(versions))
            if reason:
                model = self._read_whole(reader, role)
                self.full_reads += 1
            else:
                model = self._patch(reader, versions, role)
                self.partial_reads += 1
            self.last_full_read = reason
        self._versions = versions
        self._since, self._counts = self._next_since, self._next_counts
        self.model = model
        return model

    def _relation_versions(self, reader: CatalogReader, rows: list[tuple], *, whole: bool) -> dict[tuple[str, int], str]:
        """("relation", oid) → version of every relation: all hashed when `whole`, else only those
        `catalog.RELATION_CHANGES_SQL` (its `rows`) names as candidates (a row of theirs written
        since the last read, a member removed, new or gone); the others keep the version the last
        read gave them."""
        counts = {(kind, oid): n for kind, oid, n in rows if kind in ("depends", "comments")}
        previous = self._versions
        present = {oid for kind, oid in counts if kind == "depends"}
        self._next_since = str(next(n for kind, _, n in rows if kind == "since"))
        if whole:
            asked = None
        else:
            changed = {oid for kind, oid, _ in rows if kind == "changed"}
            changed |= {oid for kind, oid in counts.keys() | self._counts.keys()
                        if counts.get((kind, oid)) != self._counts.get((kind, oid))}
            changed |= {oid for oid in present if ("relation names", oid) not in previous}
            asked = sorted(changed & present)
        self._next_counts = counts
        if asked is None:
            return dict(((group, oid), version) for group, oid, version in reader.tuples(q.RELATION_VERSIONS_SQL))
        fresh = {}
        if asked:  # a few relations: each branch looks them up by index
            fresh = {(group, oid): version for group, oid, version
                     in reader.tuples(q.RELATION_VERSIONS_SQL, generic=True, only_oids=asked)}
        kept = {(group, oid): previous[(group, oid)] for oid in present if oid not in changed
                for group in ("relation", "relation names")}
        return {**kept, **fresh}

    def _untraceable(self, versions: dict[tuple[str, int], str]) -> str:
        """Why the changes since the last read cannot be patched in ("" when they can)."""
        previous = self._versions
        for (group, oid), version in previous.items():
            now = versions.get((group, oid))
            if group == "role" and now != version:
                return "a role was renamed or dropped"
            if group == "schema" and now is not None and now.split(":", 1)[1] != version.split(":", 1)[1]:
                return "a schema was renamed"
        before = {oid for group, oid in previous if group != "member"}
        after = {oid for group, oid in versions if group != "member"}
        joined = {oid for group, oid in versions.keys() - previous.keys() if group == "member"}
        left = {oid for group, oid in previous.keys() - versions.keys() if group == "member"}
        if joined & before or left & after:
            return "an existing object joined or left an extension"
        return ""

    def _read_whole(self, reader: CatalogReader, role: str) -> SchemaModel:
        model, self._objects, self._graph = read_whole(reader, role)
        return model

    def _patch(self, reader: CatalogReader, versions: dict[tuple[str, int], str], role: str) -> SchemaModel:
        assert self.model is not None
        previous = self._versions
        touched = {key for key in versions.keys() | previous.keys() if versions.get(key) != previous.get(key)}
        relations = {oid for group, oid in touched if group == "relation"}
        sequences = {oid for group, oid in touched if group == "sequence"}
        categories = {group for group, _ in touched if group in CATEGORY_READS}
        # a relation's dependents print only its names: asked for when one of those changed or went
        # (a name only added is a new column's or index's, which nothing kept can print)
        asked = sorted(("relation" if group == "relation names" else group, oid)
                       for group, oid in touched if group in _NAMED_GROUPS
                       and not (group == "relation names" and _only_added(previous.get((group, oid)),
                                                                           versions.get((group, oid)))))
        types = sorted(oid for group, oid in touched if group == "type" and ("type", oid) in versions)
        if types:  # an enum's labels print inside constants of the types built on it: their users too
            asked += [("built", oid) for (oid,) in reader.tuples(q.BUILT_ON_ENUMS_SQL, generic=True, types=types)]
        if asked:
            rows = reader.tuples(q.DEPENDENTS_SQL, generic=True, groups=[g for g, _ in asked],
                                 objects=[o for _, o in asked])
            for catalog, relid in rows:
                if relid is None or catalog == "pg_rewrite":
                    categories.add(_CATALOG_CATEGORY.get(catalog, "type"))
                if relid is None:
                    continue
                known = self._objects.get(relid, ("",))[0]
                if ("relation", relid) in versions or known in ("tables", "views"):
                    relations.add(relid)
                elif ("sequence", relid) in versions or known == "sequences":
                    sequences.add(relid)
                else:  # a composite type's relation
                    categories.add("type")
        if types:  # a partition bound prints its values' labels but records no dependency on their type
            relations.update(oid for (oid,) in reader.tuples(q.PARTITIONS_BY_TYPES_SQL, generic=True, types=types))
        graph = None
        if touched:  # the edges again; objects on them named anew where what could rename them changed
            # (here, after the other queries a few oids drive, which run on one generic plan each)
            self._graph.refresh(reader, changed={oid for _, oid in touched} | relations | sequences,
                                categories=categories, since=self._since)
            graph = self._graph.pairs()

        model = self.model
        objects = {category: dict(getattr(model, category)) for category in ("tables", "views", "sequences")}
        for oid in relations | sequences:  # changed or gone: out; the present ones read again
            if oid in self._objects:
                category, key = self._objects.pop(oid)
                del objects[category][key]
        for group, oids, read in (("relation", relations, read_relations), ("sequence", sequences, read_sequences)):
            present = sorted(oid for oid in oids if (group, oid) in versions)
            if present:
                *found, where = read(reader, present)
                read_now = {key: thing for part in found for key, thing in part.items()}
                for category, key in where.values():
                    objects[category][key] = read_now[key]
                self._objects.update(where)

        update = read_categories(reader, {name: CATEGORY_READS[name] for name in sorted(categories)})
        if graph is not None:
            update["dependencies"] = graph
        update.update({category: _ordered(things) for category, things in objects.items()}, connecting_roles=(role,))
        return model.model_copy(update=update)


# The category a dependent in a catalog belongs to, when no relation holds it.
_CATALOG_CATEGORY = {"pg_proc": "function", "pg_type": "type", "pg_constraint": "type",
                     "pg_statistic_ext": "statistics", "pg_collation": "collation", "pg_rewrite": "rule"}


def _only_added(before: str | None, after: str | None) -> bool:
    """Whether a relation's names version (`relation names`: hashes, comma-separated) only gained names."""
    return before is not None and after is not None and set(before.split(",")) <= set(after.split(","))


def _ordered(objects: dict) -> dict:
    """In the order a full read gives them (by schema, then name): equal models serialise equally."""
    return dict(sorted(objects.items(), key=lambda item: (item[1].schema_name, item[1].name)))
