"""Read a database's schema from the catalog into a SchemaModel.

One query per object kind (never one per table), so a 1,000-table schema is read in a handful
of round trips. Only the application's objects are read (`pg/catalog.py` says which: system
schemas and objects that belong to extensions are the extension's, not the migration's).
Definitions come from PostgreSQL's own pg_get_*def functions so that equal schemas print equally.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence as Sources
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

import psycopg
from pydantic import TypeAdapter

from migguard.core.collector import no_collection
from migguard.core.identifiers import object_key
from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader
from migguard.pg.connect import read_only_snapshot
from migguard.pg.dependencies import DependencyIndex
from migguard.schema.model import (
    Collation, Column, CompositeType, Constraint, Domain, EnumType, Extension, Function, Index, Policy, RewriteRule,
    SchemaModel, Sequence, Statistics, Table, Trigger, View,
)

LOCK_TIMEOUT = "10s"
STATEMENT_TIMEOUT = "120s"

_CONSTRAINT_KINDS = {"p": "primary", "u": "unique", "f": "foreign", "c": "check", "x": "exclusion"}
_RELATION_KINDS = {"r": "table", "p": "partitioned table", "f": "foreign table"}
_PERSISTENCE = {"p": "permanent", "u": "unlogged"}
_REPLICA_IDENTITY = {"d": "default", "f": "full", "n": "nothing", "i": "index"}


def introspect(conninfo: str | psycopg.Connection, *, exclude_schemas: tuple[str, ...] = ()) -> SchemaModel:
    """The schema of a database (a URL, or an open connection), read in one repeatable-read snapshot.

    `exclude_schemas` (migguard's own history schema) are left out as `SchemaModel.without_schemas`
    would, but by the catalog query. With a connection in autocommit mode the queries run in one
    explicit transaction all the same."""
    from migguard.core.errors import DatabaseError
    from migguard.pg.connect import connect, describe

    try:
        if isinstance(conninfo, psycopg.Connection):
            return _read(conninfo, exclude_schemas)
        with connect(conninfo) as conn:
            return _read(conn, exclude_schemas)
    except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as error:
        raise DatabaseError(f"reading the schema timed out (another session holds a lock): {describe(error)}") from None


def introspect_all(sources: Sources[str], *, exclude_schemas: tuple[str, ...] = ()) -> list[SchemaModel]:
    """The schemas of several databases, read at once: each on its own connection and thread, so
    one server works (and the other's rows are turned into a model) while the first waits — the two
    sides of `migguard diff URL URL` cost about the slower read, not the sum. Each thread runs in a
    copy of the caller's context (the tenant scope, `pg/scope.py`); the first error is raised."""
    if len(sources) < 2:
        return [introspect(source, exclude_schemas=exclude_schemas) for source in sources]
    with ThreadPoolExecutor(len(sources), thread_name_prefix="migguard-introspect") as pool:
        futures = [pool.submit(contextvars.copy_context().run, introspect, source, exclude_schemas=exclude_schemas)
                   for source in sources]
        return [future.result() for future in futures]


def _read(conn: psycopg.Connection, exclude_schemas: tuple[str, ...]) -> SchemaModel:
    with catalog_snapshot(conn, exclude_schemas) as reader:
        role = conn.execute("SELECT current_user").fetchone()[0]  # ownership is compared relative to it
        return read_whole(reader, role)[0]


def read_whole(reader: CatalogReader, role: str) -> tuple[SchemaModel, dict[int, tuple[str, str]], DependencyIndex]:
    """The whole schema from an open snapshot, oid → (category, key) of its relations and sequences,
    and its dependency edges as read (what the incremental reader patches by)."""
    with no_collection(), reader.sending_ahead(WHOLE_READ_QUERIES):
        # some 100,000 objects that all stay: no collector walks (core/collector.py)
        version = reader.conn.info.server_version  # libpq knows it: a query here would wait for all sent ahead
        # The edges first: naming their objects takes a query of its own (parameters from the edges),
        # which runs while the rest wait, and their Python work is done while the server reads the columns.
        graph = DependencyIndex.read(reader)
        dependencies = graph.pairs()
        tables, views, relation_oids = read_relations(reader)
        sequences, sequence_oids = read_sequences(reader)
        parts = read_categories(reader, CATEGORY_READS)
        model = SchemaModel(server_version=version, connecting_roles=(role,), tables=tables, views=views,
                            sequences=sequences, dependencies=dependencies, **parts)
    return model, {**relation_oids, **sequence_oids}, graph


# The queries of a whole read that take no parameters, in the order read_whole asks for them: run
# one after another on a thread of their own (`CatalogReader.sending_ahead`), so the server never
# waits for Python between them.
WHOLE_READ_QUERIES = (
    q.SCHEMA_DEPENDENCY_EDGES_SQL, q.SCHEMA_COLUMNS_SQL, q.SCHEMA_CONSTRAINTS_SQL, q.SCHEMA_INDEXES_SQL, q.SCHEMA_POLICIES_SQL,
    q.SCHEMA_TRIGGERS_SQL, q.SCHEMA_RELATIONS_SQL, q.SCHEMA_SEQUENCES_SQL, q.SCHEMA_SCHEMAS_SQL,
    q.SCHEMA_EXTENSIONS_SQL, q.SCHEMA_FUNCTIONS_SQL, q.SCHEMA_ENUMS_SQL, q.SCHEMA_DOMAINS_SQL,
    q.SCHEMA_COMPOSITES_SQL, q.SCHEMA_STATISTICS_SQL, q.SCHEMA_COLLATIONS_SQL, q.SCHEMA_RULES_SQL,
)


@contextmanager
def catalog_snapshot(conn: psycopg.Connection, exclude_schemas: tuple[str, ...] = (), *,
                     pipelined: bool = False) -> Iterator[CatalogReader]:
    """A CatalogReader inside one read-only repeatable-read snapshot, names printed schema-qualified.
    A `pipelined` reader's prepared queries outlive the snapshot (`read_only_snapshot`'s `keep_prepared`)."""
    with read_only_snapshot(conn, "migguard_introspect", keep_prepared=pipelined):
        # Every name printed schema-qualified (except built-in types), whatever the caller's path,
        # so that the same schema reads the same from any database.
        # pg_get_expr() opens the table of an expression that reads its columns (a CHECK, a policy, a
        # generated column: ACCESS SHARE): never queue forever behind a migration's lock.
        # No JIT: the planner's estimates for catalog joins are wild (RELATION_VERSIONS_SQL costs 700,000 at
        # 1,000 tables and ran 2.2 s compiling for 20 ms of execution), and no catalog read gains from it.
        conn.execute("SELECT set_config('search_path', 'pg_catalog', true), set_config('lock_timeout', %s, true), "
                     "set_config('statement_timeout', %s, true), set_config('jit', 'off', true)",
                     (LOCK_TIMEOUT, STATEMENT_TIMEOUT))
        yield CatalogReader(conn, exclude_schemas=exclude_schemas, pipelined=pipelined)


def read_relations(reader: CatalogReader, only: list[int] | None = None
                   ) -> tuple[dict[str, Table], dict[str, View], dict[int, tuple[str, str]]]:
    """Tables and views (all, or those whose oids are `only`), and oid → ("tables" | "views", key)."""
    params = {"only_oids": only}
    members = (("columns", q.SCHEMA_COLUMNS_SQL, Column), ("constraints", q.SCHEMA_CONSTRAINTS_SQL, Constraint),
               ("indexes", q.SCHEMA_INDEXES_SQL, Index), ("policies", q.SCHEMA_POLICIES_SQL, Policy),
               ("triggers", q.SCHEMA_TRIGGERS_SQL, Trigger))
    # each member query's rows are made objects while the next query runs (`sending_ahead`); a few
    # relations' (after a migration) on plans made once, each looking them up by index
    queries = [sql for _, sql, _ in members] + [q.SCHEMA_RELATIONS_SQL]
    if only is not None:
        queries = [q.by_oids(sql) for sql in queries]
    results = reader.rows_many([(sql, params) for sql in queries], generic=only is not None)
    per_table: dict[str, dict[int, dict]] = {key: defaultdict(dict) for key, _, _ in members}
    names: dict[tuple[int, int], str] = {}  # (relid, attnum) → column name: a constraint's columns
    for (key, _, model), found in zip(members, results):
        relids = [r.pop("relid") for r in found]
        if model is Column:
            names.update(((relid, r.pop("attnum")), r["name"]) for relid, r in zip(relids, found))
        elif model is Constraint:
            for relid, r in zip(relids, found):
                r["kind"] = _CONSTRAINT_KINDS[r["kind"]]
                # conkey's numbers by name, in its order (an expression's 0 names none)
                r["columns"] = [names[(relid, n)] for n in r["columns"] if (relid, n) in names]
        of_relation = per_table[key]
        for relid, member in zip(relids, _list_of(model).validate_python(found)):
            of_relation[relid][member.name] = member
    tables, views, oids = {}, {}, {}
    for r in next(results):
        grant_map = _grant_map(r["grants"])
        key = object_key(r["schema_name"], r["name"])
        oid = r["oid"]
        if r["relkind"] in ("v", "m"):
            views[key] = View(schema_name=r["schema_name"], name=r["name"], definition=r["view_definition"] or "",
                              materialized=r["relkind"] == "m", owner=r["owner"], options=tuple(r["options"]),
                              indexes=dict(per_table["indexes"].get(oid, {})), comment=r["comment"],
                              grants=grant_map, triggers=dict(per_table["triggers"].get(oid, {})))
            oids[oid] = ("views", key)
            continue
        tables[key] = Table(
            schema_name=r["schema_name"], name=r["name"], kind=_RELATION_KINDS[r["relkind"]], owner=r["owner"],
            columns=dict(per_table["columns"].get(oid, {})),
            constraints=dict(per_table["constraints"].get(oid, {})),
            indexes=dict(per_table["indexes"].get(oid, {})),
            policies=dict(per_table["policies"].get(oid, {})),
            triggers=dict(per_table["triggers"].get(oid, {})),
            rls_enabled=r["rls_enabled"], rls_forced=r["rls_forced"], partition_of=r["partition_of"],
            partition_bound=r["partition_bound"], partition_key=r["partition_key"], comment=r["comment"],
            grants=grant_map, persistence=_PERSISTENCE.get(r["persistence"], "permanent"),
            options=tuple(sorted(r["options"])), replica_identity=_REPLICA_IDENTITY[r["replica_identity"]],
            replica_identity_index=r["replica_identity_index"] if r["replica_identity"] == "i" else None,
            inherits=tuple(r["inherits"] or ()), grant_options=_grant_map(r["grant_options"]),
        )
        oids[oid] = ("tables", key)
    return tables, views, oids


@cache
def _list_of(model: type) -> TypeAdapter:
    """A validator of a whole list of `model`s: one call for thousands of rows (a third faster than
    one model at a time)."""
    return TypeAdapter(list[model])


def read_sequences(reader: CatalogReader, only: list[int] | None = None
                   ) -> tuple[dict[str, Sequence], dict[int, tuple[str, str]]]:
    """Sequences (all, or those whose oids are `only`), and oid → ("sequences", key)."""
    sequences, oids = {}, {}
    for r in reader.rows(q.SCHEMA_SEQUENCES_SQL, only_oids=only):
        oid = r.pop("oid")
        key = object_key(r["schema_name"], r["name"])
        sequences[key] = Sequence(**{**r, "grants": _grant_map(r["grants"])})
        oids[oid] = ("sequences", key)
    return sequences, oids


def _schemas(reader: CatalogReader) -> dict:
    schema_rows = reader.rows(q.SCHEMA_SCHEMAS_SQL)
    return {"schemas": {r["name"]: r["owner"] for r in schema_rows},
            "schema_grants": {r["name"]: _grant_map(r["grants"]) for r in schema_rows if r["grants"]}}


def _extensions(reader: CatalogReader) -> dict:
    return {"extensions": {r["name"]: Extension(**r) for r in reader.rows(q.SCHEMA_EXTENSIONS_SQL)}}


def _functions(reader: CatalogReader) -> dict:
    functions = {}
    for r in reader.rows(q.SCHEMA_FUNCTIONS_SQL):
        function = Function(**{**r, "grants": _grant_map(r["grants"])},
                            body_hash=hashlib.sha256(r["definition"].encode()).hexdigest())
        functions[function.signature] = function
    return {"functions": functions}


def _types(reader: CatalogReader) -> dict:
    rows = reader.rows
    enums = {object_key(r["schema_name"], r["name"]): EnumType(schema_name=r["schema_name"], name=r["name"],
                                                               values=tuple(r["values"]),
                                                               grants=_grant_map(r["grants"]))
             for r in rows(q.SCHEMA_ENUMS_SQL)}
    domains = {object_key(r["schema_name"], r["name"]): Domain(**{**r, "grants": _grant_map(r["grants"])})
               for r in rows(q.SCHEMA_DOMAINS_SQL)}
    composites = {object_key(r["schema_name"], r["name"]): CompositeType(
        **{**r, "attributes": tuple(tuple(a) for a in r["attributes"]), "grants": _grant_map(r["grants"])})
        for r in rows(q.SCHEMA_COMPOSITES_SQL)}
    return {"enums": enums, "domains": domains, "composites": composites}


def _statistics(reader: CatalogReader) -> dict:
    return {"statistics": {object_key(r["schema_name"], r["name"]): Statistics(**r)
                           for r in reader.rows(q.SCHEMA_STATISTICS_SQL)}}


def _collations(reader: CatalogReader) -> dict:
    return {"collations": {object_key(r["schema_name"], r["name"]): _collation(r)
                           for r in reader.rows(q.SCHEMA_COLLATIONS_SQL)}}


def _rules(reader: CatalogReader) -> dict:
    return {"rules": {rule.qualified_name: rule for rule in (RewriteRule(**r) for r in reader.rows(q.SCHEMA_RULES_SQL))}}


# The parts of the model read whole (not per relation), each by the group of catalog rows
# (`catalog.OBJECT_VERSIONS_SQL`) whose change makes the incremental reader read it again.
CATEGORY_READS: dict[str, Callable[[CatalogReader], dict]] = {
    "schema": _schemas, "extension": _extensions, "function": _functions, "type": _types,
    "statistics": _statistics, "collation": _collations, "rule": _rules,
}


def read_categories(reader: CatalogReader, reads: dict[str, Callable[[CatalogReader], dict]]) -> dict:
    """The SchemaModel fields the given category reads return, merged."""
    parts: dict = {}
    for read in reads.values():
        parts.update(read(reader))
    return parts


def _grant_map(pairs: list[list[str]] | None) -> dict[str, tuple[str, ...]]:
    """[[grantee, privilege], …] (None: none) → grantee → sorted privileges."""
    if not pairs:  # most objects: no grant beside the owner's
        return {}
    grants: dict[str, list[str]] = defaultdict(list)
    for role, privilege in pairs:
        grants[role].append(privilege)
    return {role: tuple(sorted(privileges)) for role, privileges in sorted(grants.items())}


_COLLATION_PROVIDERS = {"i": "icu", "c": "libc", "b": "builtin", "d": "default"}


def _collation(r: dict) -> Collation:
    """A pg_collation row (as JSON: its columns differ by major) as a Collation."""
    row = r["row"]
    provider = _COLLATION_PROVIDERS.get(row["collprovider"], row["collprovider"])
    libc = provider == "libc"
    return Collation(schema_name=r["schema_name"], name=r["name"], provider=provider,
                     locale=None if libc else row.get("colllocale") or row.get("colliculocale"),
                     lc_collate=row.get("collcollate") if libc else None,
                     lc_ctype=row.get("collctype") if libc else None,
                     deterministic=row["collisdeterministic"], rules=row.get("collicurules"), comment=r["comment"])
