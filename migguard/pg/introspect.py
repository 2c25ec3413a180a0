"""Read a database's schema from the catalog into a SchemaModel.

One query per object kind (never one per table), so a 1,000-table schema is read in a handful
of round trips. Only the application's objects are read (`pg/catalog.py` says which: system
schemas and objects that belong to extensions are the extension's, not the migration's).
Definitions come from PostgreSQL's own pg_get_*def functions so that equal schemas print equally.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import psycopg

from migguard.core.identifiers import object_key
from migguard.pg import catalog as q
from migguard.pg.catalog import CatalogReader
from migguard.pg.connect import read_only_snapshot
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


def _read(conn: psycopg.Connection, exclude_schemas: tuple[str, ...]) -> SchemaModel:
    with read_only_snapshot(conn, "migguard_introspect"):
        # Every name printed schema-qualified (except built-in types), whatever the caller's path,
        # so that the same schema reads the same from any database.
        conn.execute("SELECT set_config('search_path', 'pg_catalog', true)")
        # pg_get_expr() opens each table (ACCESS SHARE): never queue forever behind a migration's lock.
        conn.execute("SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                     (LOCK_TIMEOUT, STATEMENT_TIMEOUT))
        reader = CatalogReader(conn, exclude_schemas=exclude_schemas)
        rows = reader.rows

        version = int(conn.execute("SHOW server_version_num").fetchone()[0])
        role = conn.execute("SELECT current_user").fetchone()[0]  # ownership is compared relative to it
        schema_rows = rows(q.SCHEMA_SCHEMAS_SQL)
        schemas = {r["name"]: r["owner"] for r in schema_rows}
        schema_grants = {r["name"]: _grant_map(r["grants"]) for r in schema_rows if r["grants"]}
        extensions = {r["name"]: Extension(**r) for r in rows(q.SCHEMA_EXTENSIONS_SQL)}
        relations = rows(q.SCHEMA_RELATIONS_SQL)
        per_table: dict[str, dict[int, dict]] = {key: defaultdict(dict) for key in
                                                 ("columns", "constraints", "indexes", "policies", "triggers")}
        for key, sql, model in (("columns", q.SCHEMA_COLUMNS_SQL, Column),
                                ("constraints", q.SCHEMA_CONSTRAINTS_SQL, Constraint),
                                ("indexes", q.SCHEMA_INDEXES_SQL, Index), ("policies", q.SCHEMA_POLICIES_SQL, Policy),
                                ("triggers", q.SCHEMA_TRIGGERS_SQL, Trigger)):
            for r in rows(sql):
                relid = r.pop("relid")
                if "kind" in r and model is Constraint:
                    r["kind"] = _CONSTRAINT_KINDS[r["kind"]]
                for array in ("columns", "roles"):
                    if array in r:
                        r[array] = tuple(r[array])
                per_table[key][relid][r["name"]] = model(**r)
        tables, views = {}, {}
        for r in relations:
            grant_map = _grant_map(r["grants"])
            key = object_key(r["schema_name"], r["name"])
            oid = r["oid"]
            if r["relkind"] in ("v", "m"):
                views[key] = View(schema_name=r["schema_name"], name=r["name"], definition=r["view_definition"] or "",
                                  materialized=r["relkind"] == "m", owner=r["owner"], options=tuple(r["options"]),
                                  indexes=dict(per_table["indexes"].get(oid, {})), comment=r["comment"],
                                  grants=grant_map, triggers=dict(per_table["triggers"].get(oid, {})))
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
        sequences = {object_key(r["schema_name"], r["name"]): Sequence(**{**r, "grants": _grant_map(r["grants"])})
                     for r in rows(q.SCHEMA_SEQUENCES_SQL)}
        functions = {}
        for r in rows(q.SCHEMA_FUNCTIONS_SQL):
            function = Function(**{**r, "grants": _grant_map(r["grants"])},
                                body_hash=hashlib.sha256(r["definition"].encode()).hexdigest())
            functions[function.signature] = function
        enums = {object_key(r["schema_name"], r["name"]): EnumType(schema_name=r["schema_name"], name=r["name"],
                                                                   values=tuple(r["values"]),
                                                                   grants=_grant_map(r["grants"]))
                 for r in rows(q.SCHEMA_ENUMS_SQL)}
        domains = {object_key(r["schema_name"], r["name"]): Domain(**{**r, "grants": _grant_map(r["grants"])})
                   for r in rows(q.SCHEMA_DOMAINS_SQL)}
        composites = {object_key(r["schema_name"], r["name"]): CompositeType(
            **{**r, "attributes": tuple(tuple(a) for a in r["attributes"]), "grants": _grant_map(r["grants"])})
            for r in rows(q.SCHEMA_COMPOSITES_SQL)}
        statistics = {object_key(r["schema_name"], r["name"]): Statistics(**r) for r in rows(q.SCHEMA_STATISTICS_SQL)}
        collations = {object_key(r["schema_name"], r["name"]): _collation(r) for r in rows(q.SCHEMA_COLLATIONS_SQL)}
        rules = {rule.qualified_name: rule for rule in (RewriteRule(**r) for r in rows(q.SCHEMA_RULES_SQL))}
        dependencies = tuple(edge for edge in (((r["kind"], *r["parts"]), (r["ref_kind"], *r["ref_parts"]))
                                               for r in rows(q.SCHEMA_DEPENDENCIES_SQL)) if edge[0] != edge[1])
    return SchemaModel(server_version=version, connecting_roles=(role,), schemas=schemas, schema_grants=schema_grants,
                       extensions=extensions, tables=tables, views=views, sequences=sequences, functions=functions,
                       enums=enums, domains=domains, composites=composites, statistics=statistics,
                       collations=collations, rules=rules, dependencies=dependencies)


def _grant_map(pairs: list[list[str]] | None) -> dict[str, tuple[str, ...]]:
    """[[grantee, privilege], …] (None: none) → grantee → sorted privileges."""
    grants: dict[str, list[str]] = defaultdict(list)
    for role, privilege in pairs or ():
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
