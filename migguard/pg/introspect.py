"""Read a database's schema from the catalog into a SchemaModel.

One query per object kind (never one per table), so a 1,000-table schema is read in a handful
of round trips. System schemas and objects that belong to extensions are left out: they are
the extension's, not the migration's. Definitions come from PostgreSQL's own pg_get_*def
functions so that equal schemas print equally.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import psycopg
from psycopg.rows import dict_row

from migguard.core.identifiers import object_key
from migguard.pg.connect import read_only_snapshot
from migguard.schema.model import (
    Column, Constraint, Domain, EnumType, Extension, Function, Index, Policy, RewriteRule, SchemaModel, Sequence,
    Table, Trigger, View,
)

# Schemas that are never the migration's.
_USER_NAMESPACES = """
    SELECT n.oid FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                      AND d.objid = n.oid AND d.deptype = 'e')
"""
_NOT_EXTENSION_MEMBER = """
    NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {catalog}::regclass AND d.objid = {oid} AND d.deptype = 'e')
"""

SCHEMAS_SQL = f"""
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner
FROM pg_namespace n WHERE n.oid IN ({_USER_NAMESPACES})
ORDER BY 1
"""

EXTENSIONS_SQL = """
SELECT e.extname AS name, n.nspname AS schema_name, e.extversion AS version
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY 1
"""

RELATIONS_SQL = f"""
SELECT c.oid, n.nspname AS schema_name, c.relname AS name, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       CASE WHEN c.relispartition THEN (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid) END AS partition_of,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       obj_description(c.oid, 'pg_class') AS comment,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS view_definition,
       coalesce(c.reloptions, '{{}}') AS options,
       (SELECT coalesce(json_agg(json_build_array(CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                                                 a.privilege_type)), '[]')
        FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS grants
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND c.relnamespace IN ({_USER_NAMESPACES})
  AND {_NOT_EXTENSION_MEMBER.format(catalog="'pg_class'", oid="c.oid")}
ORDER BY 2, 3
"""

COLUMNS_SQL = f"""
SELECT a.attrelid AS relid, a.attname AS name,
       row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)::int AS position,
       format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation,
       col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f')
  AND c.relnamespace IN ({_USER_NAMESPACES})
ORDER BY a.attrelid, a.attnum
"""

CONSTRAINTS_SQL = f"""
SELECT con.conrelid AS relid, con.conname AS name, con.contype AS kind, pg_get_constraintdef(con.oid) AS definition,
       coalesce((SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n), '{{}}') AS columns,
       con.convalidated AS validated,
       CASE WHEN con.contype = 'f' THEN con.confrelid::regclass::text END AS references,
       obj_description(con.oid, 'pg_constraint') AS comment
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND c.relnamespace IN ({_USER_NAMESPACES})
  AND (con.conparentid = 0 OR NOT c.relispartition)
ORDER BY con.conrelid, con.conname
"""

INDEXES_SQL = f"""
SELECT i.indrelid AS relid, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS unique,
       am.amname AS method,
       coalesce((SELECT array_agg(pg_get_indexdef(i.indexrelid, k.i::int, true) ORDER BY k.i)
                 FROM generate_series(1, i.indnkeyatts) k(i)), '{{}}') AS columns,
       pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indisvalid AS valid,
       (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        AND con.contype IN ('p', 'u', 'x')) AS constraint,
       obj_description(i.indexrelid, 'pg_class') AS comment
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('r', 'p', 'm')
ORDER BY i.indrelid, ic.relname
"""

POLICIES_SQL = f"""
SELECT p.polrelid AS relid, p.polname AS name,
       CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'
                     WHEN 'd' THEN 'delete' ELSE 'all' END AS command,
       p.polpermissive AS permissive,
       coalesce((SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END ORDER BY 1)
                 FROM unnest(p.polroles) r), '{{public}}') AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace IN ({_USER_NAMESPACES})
ORDER BY p.polrelid, p.polname
"""

TRIGGERS_SQL = f"""
SELECT t.tgrelid AS relid, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND c.relnamespace IN ({_USER_NAMESPACES})
  AND (t.tgparentid = 0)
ORDER BY t.tgrelid, t.tgname
"""

SEQUENCES_SQL = f"""
SELECT n.nspname AS schema_name, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS minimum, s.seqmax AS maximum,
       s.seqcache AS cache, s.seqcycle AS cycle,
       (SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname) FROM pg_depend d
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
          AND d.refclassid = 'pg_class'::regclass LIMIT 1) AS owned_by
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND {_NOT_EXTENSION_MEMBER.format(catalog="'pg_class'", oid="c.oid")}
ORDER BY 1, 2
"""

FUNCTIONS_SQL = f"""
SELECT n.nspname AS schema_name, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' ELSE 'function' END AS kind,
       CASE WHEN p.prokind IN ('f', 'w') THEN pg_get_function_result(p.oid) END AS returns,
       l.lanname AS language,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
       p.prosecdef AS security_definer,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) ELSE '' END AS definition,
       pg_get_userbyid(p.proowner) AS owner
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace IN ({_USER_NAMESPACES}) AND {_NOT_EXTENSION_MEMBER.format(catalog="'pg_proc'", oid="p.oid")}
ORDER BY 1, 2, 3
"""

ENUMS_SQL = f"""
SELECT n.nspname AS schema_name, t.typname AS name,
       array_agg(e.enumlabel ORDER BY e.enumsortorder) AS values
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace IN ({_USER_NAMESPACES}) AND {_NOT_EXTENSION_MEMBER.format(catalog="'pg_type'", oid="t.oid")}
GROUP BY 1, 2 ORDER BY 1, 2
"""

DOMAINS_SQL = f"""
SELECT n.nspname AS schema_name, t.typname AS name, format_type(t.typbasetype, t.typtypmod) AS base_type,
       t.typnotnull AS not_null, t.typdefault AS default,
       coalesce((SELECT json_object_agg(con.conname, pg_get_constraintdef(con.oid)) FROM pg_constraint con
                 WHERE con.contypid = t.oid), '{{}}') AS constraints
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND t.typnamespace IN ({_USER_NAMESPACES})
  AND {_NOT_EXTENSION_MEMBER.format(catalog="'pg_type'", oid="t.oid")}
ORDER BY 1, 2
"""

# Rules made by CREATE RULE; a view's own _RETURN rule is its definition, read with the view.
RULES_SQL = f"""
SELECT n.nspname AS schema_name, c.relname AS "table", r.rulename AS name, pg_get_ruledef(r.oid) AS definition,
       r.ev_enabled AS enabled
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND c.relnamespace IN ({_USER_NAMESPACES})
  AND {_NOT_EXTENSION_MEMBER.format(catalog="'pg_class'", oid="c.oid")}
ORDER BY 1, 2, 3
"""

LOCK_TIMEOUT = "10s"
STATEMENT_TIMEOUT = "120s"

_CONSTRAINT_KINDS = {"p": "primary", "u": "unique", "f": "foreign", "c": "check", "x": "exclusion"}
_RELATION_KINDS = {"r": "table", "p": "partitioned table", "f": "foreign table"}


def introspect(conninfo: str | psycopg.Connection) -> SchemaModel:
    """The schema of a database (a URL, or an open connection), read in one repeatable-read snapshot.

    With a connection in autocommit mode the queries run in one explicit transaction all the same."""
    from migguard.core.errors import DatabaseError
    from migguard.pg.connect import connect, describe

    try:
        if isinstance(conninfo, psycopg.Connection):
            return _read(conninfo)
        with connect(conninfo) as conn:
            return _read(conn)
    except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as error:
        raise DatabaseError(f"reading the schema timed out (another session holds a lock): {describe(error)}") from None


def _read(conn: psycopg.Connection) -> SchemaModel:
    with read_only_snapshot(conn, "migguard_introspect"), conn.cursor(row_factory=dict_row) as cur:
        def rows(sql: str) -> list[dict]:
            cur.execute(sql)
            return cur.fetchall()

        # Every name printed schema-qualified (except built-in types), whatever the caller's path,
        # so that the same schema reads the same from any database.
        cur.execute("SELECT set_config('search_path', 'pg_catalog', true)")
        # pg_get_expr() opens each table (ACCESS SHARE): never queue forever behind a migration's lock.
        cur.execute("SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                    (LOCK_TIMEOUT, STATEMENT_TIMEOUT))

        version = int(rows("SHOW server_version_num")[0]["server_version_num"])
        role = rows("SELECT current_user AS role")[0]["role"]  # ownership is compared relative to it
        schemas = {r["name"]: r["owner"] for r in rows(SCHEMAS_SQL)}
        extensions = {r["name"]: Extension(**r) for r in rows(EXTENSIONS_SQL)}
        relations = rows(RELATIONS_SQL)
        per_table: dict[str, dict[int, dict]] = {key: defaultdict(dict) for key in
                                                 ("columns", "constraints", "indexes", "policies", "triggers")}
        for key, sql, model in (("columns", COLUMNS_SQL, Column), ("constraints", CONSTRAINTS_SQL, Constraint),
                                ("indexes", INDEXES_SQL, Index), ("policies", POLICIES_SQL, Policy),
                                ("triggers", TRIGGERS_SQL, Trigger)):
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
            grants: dict[str, list[str]] = defaultdict(list)
            for role, privilege in r["grants"]:
                grants[role].append(privilege)
            grant_map = {role: tuple(sorted(p)) for role, p in sorted(grants.items())}
            key = object_key(r["schema_name"], r["name"])
            oid = r["oid"]
            if r["relkind"] in ("v", "m"):
                views[key] = View(schema_name=r["schema_name"], name=r["name"], definition=r["view_definition"] or "",
                                  materialized=r["relkind"] == "m", owner=r["owner"], options=tuple(r["options"]),
                                  indexes=dict(per_table["indexes"].get(oid, {})), comment=r["comment"],
                                  grants=grant_map)
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
                grants=grant_map,
            )
        sequences = {object_key(r["schema_name"], r["name"]): Sequence(**r) for r in rows(SEQUENCES_SQL)}
        functions = {}
        for r in rows(FUNCTIONS_SQL):
            function = Function(**r, body_hash=hashlib.sha256(r["definition"].encode()).hexdigest())
            functions[function.signature] = function
        enums = {object_key(r["schema_name"], r["name"]): EnumType(schema_name=r["schema_name"], name=r["name"],
                                                                   values=tuple(r["values"])) for r in rows(ENUMS_SQL)}
        domains = {object_key(r["schema_name"], r["name"]): Domain(**r) for r in rows(DOMAINS_SQL)}
        rules = {rule.qualified_name: rule for rule in (RewriteRule(**r) for r in rows(RULES_SQL))}
    return SchemaModel(server_version=version, connecting_roles=(role,), schemas=schemas, extensions=extensions,
                       tables=tables, views=views, sequences=sequences, functions=functions, enums=enums,
                       domains=domains, rules=rules)
