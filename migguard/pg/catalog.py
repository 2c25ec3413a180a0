"""The one reader of PostgreSQL's catalog: which objects are the application's, and the queries
that read them for introspection, the RLS audit, the row generator, the lock trace and `query`.

The application's objects are those in the application's schemas (`APP_SCHEMAS_SQL`: not
pg_catalog, information_schema, pg_toast or a temporary schema, not created by an extension, not
one the caller names — migguard's own history schema) that are not themselves members of an
extension (`not_extension_member`). `CatalogReader` reads that list of schemas once per call and
binds it, as `%(app_schemas)s`, to every query it runs; a query scoped to given relations takes
their oids (`%(oids)s`) or names instead. Each reader keeps its own result types; only the
catalog SQL lives here, so the definition cannot drift between them again.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from functools import cache

import psycopg
from psycopg.rows import dict_row

from migguard.pg import scope

# The application's schemas. Temporary schemas belong to sessions, extension-owned ones to their
# extension, and `exclude` names migguard's own (the history table and the audit head). A tenant's
# run (`pg/scope.py`) reads only the tenant's schema (`only`).
APP_SCHEMAS_SQL = """
SELECT n.oid FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND (%(only)s::text IS NULL OR n.nspname = %(only)s::text)
  AND n.nspname !~ '^pg_(toast_)?temp_'
  AND n.nspname <> ALL(%(exclude)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                  AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY 1
"""


def in_app_schemas(namespace: str) -> str:
    """SQL: the namespace oid `namespace` is one of the application's schemas."""
    return f"{namespace} = ANY(%(app_schemas)s::oid[])"


def not_extension_member(catalog: str, oid: str) -> str:
    """SQL: the object `oid` of system catalog `catalog` (e.g. 'pg_class') was not created by an extension."""
    return (f"NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid}"
            " AND d.deptype = 'e')")


def only_oids(oid: str) -> str:
    """SQL: `oid` is one of `%(only_oids)s`, or that parameter is NULL (read everything). The
    incremental reader (`pg/incremental.py`) reads only the relations and sequences that changed."""
    return f"(%(only_oids)s::oid[] IS NULL OR {oid} = ANY(%(only_oids)s::oid[]))"


_ONLY_OIDS = re.compile(r"\(%\(only_oids\)s::oid\[\] IS NULL OR ([\w.]+) = ANY\(%\(only_oids\)s::oid\[\]\)\)")


@cache
def by_oids(query: str) -> str:
    """`query` for the relations `%(only_oids)s` names only (not NULL: every one): a plan made once
    for it looks them up by index, where `only_oids`'s "NULL or one of them" makes any such plan
    scan the catalog whole. For the incremental reader: after a migration, a plan made once for a
    few oids instead of one planned anew for them after every migration."""
    return _ONLY_OIDS.sub(r"\1 = ANY(%(only_oids)s::oid[])", query)


def app_object(namespace: str, catalog: str, oid: str) -> str:
    """SQL: the object is the application's (in its schemas, not an extension's member)."""
    return f"{in_app_schemas(namespace)} AND {not_extension_member(catalog, oid)}"


class _QueryThread:
    """`CatalogReader.sending_ahead`'s thread: runs the queries given, in order, on the reader's
    connection (whose lock keeps each whole), and, before those still waiting, any query the
    caller asks for now (`now`). Once a query has failed, the transaction is aborted: every later
    one is answered with that first error, the cause, not with "current transaction is aborted"."""

    def __init__(self, conn: psycopg.Connection, queries: Iterable[str], params: dict) -> None:
        self._conn = conn
        self._sent: dict[str, Future[psycopg.Cursor]] = {}
        self._waiting: deque[tuple[str, dict, bool | None, Future[psycopg.Cursor]]] = deque()
        for query in queries:
            self._sent[query] = Future()
            self._waiting.append((query, params, None, self._sent[query]))
        self._changed = threading.Condition()
        self._closed = False
        self._failure: BaseException | None = None  # the first query's error: every later one's too
        self._thread = threading.Thread(target=self._work, name="migguard-catalog", daemon=True)
        self._thread.start()

    def take(self, query: str) -> psycopg.Cursor | None:
        """The cursor `query` was sent ahead on (once), when it was; its error, when it failed."""
        future = self._sent.pop(query, None)
        return future.result() if future is not None else None

    def now(self, query: str, params: dict, prepare: bool | None) -> psycopg.Cursor:
        """`query` run next, before the queries still waiting; its cursor."""
        future: Future[psycopg.Cursor] = Future()
        with self._changed:
            if self._closed:
                raise RuntimeError("the catalog reader's query thread has stopped")
            self._waiting.appendleft((query, params, prepare, future))
            self._changed.notify()
        return future.result()

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                query, params, prepare, future = self._waiting.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            if self._failure is not None:  # the transaction is aborted: whoever asks learns why
                future.set_exception(self._failure)
                continue
            try:
                cursor = self._conn.cursor()
                cursor.execute(query, params, prepare=prepare)
            except BaseException as error:  # noqa: BLE001 - handed to whoever asks for this query, or a later one
                self._failure = error
                future.set_exception(error)
            else:
                future.set_result(cursor)

    def close(self) -> None:
        """Stop after the query running now; what was sent but not taken is discarded."""
        with self._changed:
            self._closed = True
            for *_, future in self._waiting:
                future.cancel()
            self._waiting.clear()
            self._changed.notify()
        self._thread.join()
        for future in self._sent.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                future.result().close()


class CatalogReader:
    """Catalog queries on one connection (rows as dicts), scoped to the application's schemas.

    The schema list is read when the reader is made: make it inside the snapshot the queries share."""

    def __init__(self, conn: psycopg.Connection, *, exclude_schemas: Iterable[str] = (), pipelined: bool = False) -> None:
        self.conn = conn
        # the shadow's clone, read after each migration: rows_many sends its queries at once, and every
        # query is prepared (parsed once per connection, not once per migration)
        self.pipelined = pipelined
        rows = conn.execute(APP_SCHEMAS_SQL, {"exclude": list(exclude_schemas), "only": scope.current()}).fetchall()
        self.app_schemas = [row[0] for row in rows]
        self._ahead: _QueryThread | None = None  # inside `sending_ahead`
        self._generic = False  # `plan_generically`
        self._chosen: str | None = None  # plan_cache_mode before it

    def plan_generically(self, generic: bool) -> None:
        """From now on in this transaction, prepared queries run on a plan made once for any
        parameters (`generic`), or as PostgreSQL chooses. For the queries a few oids drive (each
        branch looks them up by index), whose plan does not depend on how many there are:
        PostgreSQL would plan each run anew for its values (the dependency objects query: 3.7 ms
        of planning for 0.5 ms of work). Not for the `only_oids` reads of columns, constraints …
        as they are (a plan for any value of it scans the catalog whole; RELATION_VERSIONS_SQL's
        scans only the application's rows of pg_class, by index), but for their `by_oids` forms;
        nor for a whole read. Switched only when it changes: the incremental reader asks for its
        generic queries one after the other."""
        if generic != self._generic:
            self._noted(self._switch(generic))

    def _switch(self, generic: bool) -> psycopg.Cursor:
        """Send the switch (in a pipeline, with the query that asks for it: one round trip)."""
        self._generic = generic
        return self.conn.execute("SELECT current_setting('plan_cache_mode'), set_config('plan_cache_mode', %s, true)",
                                 ("force_generic_plan" if generic else self._chosen,))

    def _noted(self, switch: psycopg.Cursor) -> None:
        chosen = switch.fetchone()[0]
        self._chosen = self._chosen or chosen

    def _pipelines(self) -> bool:
        return self.pipelined and psycopg.Pipeline.is_supported()

    @contextmanager
    def sending_ahead(self, queries: Iterable[str]) -> Iterator[None]:
        """Inside the block, `queries` (each run without parameters) run one after another on a
        thread of their own, and `rows()`/`tuples()` of one of them take its result as soon as it
        is there: the server runs the next query while Python turns the last one's rows into
        objects, instead of waiting for Python between queries. (psycopg's pipeline mode cannot
        do this: fetching the first result waits for every query sent.) A query asked for that was
        not sent (other parameters, another query) runs on that thread too, next, before the ones
        still waiting: the caller waits for the query running now, not for all of them. A query
        sent but not asked for is discarded, and an error is raised to the caller that asks for
        the result it spoiled."""
        self.plan_generically(False)  # before the worker shares the connection
        self._ahead = _QueryThread(self.conn, queries, self._bound({}))
        try:
            yield
        finally:
            ahead, self._ahead = self._ahead, None
            ahead.close()

    def _bound(self, params: dict) -> dict:
        """A query's parameters: the application's schemas, every relation (`only_oids` NULL) unless
        `params` says otherwise."""
        return {"app_schemas": self.app_schemas, "only_oids": None, **params}

    def _sent(self, query: str, params: dict, prepare: bool | None = None) -> psycopg.Cursor | None:
        """Inside `sending_ahead`, the cursor its thread ran `query` on: sent ahead, if it was and
        `params` ask for nothing else, or else run there now."""
        if self._ahead is None:
            return None
        if all(value is None for value in params.values()):
            sent = self._ahead.take(query)
            if sent is not None:
                return sent
        return self._ahead.now(query, self._bound(params), prepare)

    def rows(self, query: str, **params: object) -> list[dict]:
        sent = self._sent(query, params, self.pipelined or None)
        if sent is not None:
            sent.row_factory = dict_row
            with sent:
                return sent.fetchall()
        self.plan_generically(False)
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, self._bound(params), prepare=self.pipelined or None)
            return cur.fetchall()

    def rows_many(self, queries: list[tuple[str, dict]], *, generic: bool = False) -> Iterator[list[dict]]:
        """Several queries' rows, in order: sent in one round trip (psycopg's pipeline mode) when
        the reader is `pipelined` and libpq has it, else each asked for when the caller is done
        with the last one's (sent ahead already, or one after the other). `generic`: on plans made
        once (`plan_generically`), when pipelined."""
        if self._ahead or not self._pipelines():
            return (self.rows(query, **params) for query, params in queries)
        cursors = []
        with self.conn.pipeline():
            switch = self._switch(generic) if self._generic != generic else None
            for query, params in queries:
                cursor = self.conn.cursor(row_factory=dict_row)
                cursor.execute(query, self._bound(params), prepare=True)
                cursors.append(cursor)
        if switch is not None:
            self._noted(switch)
        results = [cursor.fetchall() for cursor in cursors]
        for cursor in cursors:
            cursor.close()
        return iter(results)

    def tuples_many(self, queries: list[tuple[str, dict]], *, generic: bool = False) -> list[list[tuple]]:
        """Several queries' rows as tuples, prepared, in one round trip when the reader is
        `pipelined` (as `rows_many`); `generic` as `tuples`'."""
        if self._ahead or not self._pipelines():
            return [self.tuples(query, prepare=True, generic=generic, **params) for query, params in queries]
        with self.conn.pipeline():
            switch = self._switch(generic) if self._generic != generic else None
            cursors = [self.conn.execute(query, self._bound(params), prepare=True) for query, params in queries]
        if switch is not None:
            self._noted(switch)
        return [cursor.fetchall() for cursor in cursors]

    def tuples(self, query: str, *, prepare: bool | None = None, generic: bool = False, **params: object) -> list[tuple]:
        """`prepare`: as psycopg's (True: planned once per connection, for a query run after every
        migration); a `pipelined` reader's are. `generic`: on a plan made once (`plan_generically`)."""
        sent = self._sent(query, params, self.pipelined or prepare or None) if not generic else None
        if sent is not None:
            with sent:
                return sent.fetchall()
        prepare = self.pipelined or prepare or generic
        if generic != self._generic and self._pipelines():
            with self.conn.pipeline():  # the switch and the query in one round trip
                switch = self._switch(generic)
                cursor = self.conn.execute(query, self._bound(params), prepare=prepare)
            self._noted(switch)
            return cursor.fetchall()
        self.plan_generically(generic)
        return self.conn.execute(query, self._bound(params), prepare=prepare).fetchall()


# --- introspection (pg/introspect.py: the SchemaModel) --------------------------------------------
# The queries that read one row per column, constraint, index or relation join pg_description for
# the comment: obj_description() and col_description() are SQL functions, run once per row.

def acl_grants(acl: str, kind: str, owner: str) -> str:
    """A JSON array of [grantee, privilege] of an ACL column, NULL when there are none (no JSON to
    decode for most objects); a NULL ACL means the kind's default ACL (acldefault: PUBLIC may
    execute functions and use types), the owner's own rights left out."""
    return (f"(SELECT json_agg(json_build_array(CASE WHEN a.grantee = 0 THEN 'public' "
            f"ELSE pg_get_userbyid(a.grantee) END, a.privilege_type)) "
            f"FROM aclexplode(coalesce({acl}, acldefault('{kind}', {owner}))) a WHERE a.grantee <> {owner})")


SCHEMA_SCHEMAS_SQL = f"""
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
       {acl_grants("n.nspacl", "n", "n.nspowner")} AS grants
FROM pg_namespace n WHERE {in_app_schemas("n.oid")}
ORDER BY 1
"""

SCHEMA_EXTENSIONS_SQL = """
SELECT e.extname AS name, n.nspname AS schema_name, e.extversion AS version
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY 1
"""

SCHEMA_RELATIONS_SQL = f"""
SELECT c.oid, n.nspname AS schema_name, c.relname AS name, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       CASE WHEN c.relispartition THEN (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid) END AS partition_of,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       d.description AS comment,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS view_definition,
       coalesce(c.reloptions, '{{}}') AS options,
       c.relpersistence AS persistence, c.relreplident AS replica_identity,
       (SELECT ic.relname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
        WHERE x.indrelid = c.oid AND x.indisreplident) AS replica_identity_index,
       (SELECT json_agg(i.inhparent::regclass::text ORDER BY i.inhseqno) FROM pg_inherits i
        WHERE i.inhrelid = c.oid AND NOT c.relispartition) AS inherits,
       (SELECT json_agg(json_build_array(CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                                        a.privilege_type))
        FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS grants,
       (SELECT json_agg(json_build_array(CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                                        a.privilege_type))
        FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner AND a.is_grantable) AS grant_options
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {app_object("c.relnamespace", "pg_class", "c.oid")}
  AND {only_oids("c.oid")}
ORDER BY 2, 3
"""

# A default holds no column reference (PostgreSQL refuses one), so it is printed without its
# table (`pg_get_expr(…, 0)`, as the function's documentation allows when no Var is expected):
# printing with the table builds a naming context of all its columns for every default. A
# generated column's expression reads other columns and is printed with its table.
SCHEMA_COLUMNS_SQL = f"""
SELECT a.attrelid AS relid, a.attname AS name, a.attnum,
       row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)::int AS position,
       format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0) END AS default,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation,
       d.description AS comment,
       CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int END AS statistics,
       CASE WHEN a.attidentity <> '' THEN
         (SELECT json_build_object('name', sc.relname, 'start', s.seqstart, 'increment', s.seqincrement,
                                   'minimum', s.seqmin, 'maximum', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle)
          FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid JOIN pg_class sc ON sc.oid = d.objid
          WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
            AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND d.deptype = 'i' LIMIT 1) END AS identity_sequence
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f')
  AND {in_app_schemas("c.relnamespace")} AND {only_oids("a.attrelid")}
ORDER BY a.attrelid, a.attnum
"""

# A partition's foreign keys cloned from its parent's are the parent's (they come and go with it);
# its primary key, unique and exclusion constraints are its own, their index attached to the
# parent's (pg_dump prints them so: `ALTER TABLE ONLY partition ADD CONSTRAINT …`).
SCHEMA_CONSTRAINTS_SQL = f"""
SELECT con.conrelid AS relid, con.conname AS name, con.contype AS kind, pg_get_constraintdef(con.oid) AS definition,
       coalesce(con.conkey, '{{}}') AS columns,
       con.convalidated AS validated,
       CASE WHEN con.contype = 'f' THEN con.confrelid::regclass::text END AS references,
       d.description AS comment,
       NOT con.conislocal AND con.contype = 'c' AS inherited
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_description d ON d.objoid = con.oid AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND {in_app_schemas("c.relnamespace")}
  AND (con.conparentid = 0 OR con.contype IN ('p', 'u', 'x')) AND {only_oids("con.conrelid")}
ORDER BY con.conrelid, con.conname
"""

SCHEMA_INDEXES_SQL = f"""
SELECT i.indrelid AS relid, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS unique,
       am.amname AS method,
       coalesce((SELECT array_agg(CASE WHEN k.attnum <> 0 THEN quote_ident(a.attname)
                                        ELSE pg_get_indexdef(i.indexrelid, k.i::int, true) END ORDER BY k.i)
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, i)
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE k.i <= i.indnkeyatts), '{{}}') AS columns,
       pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indisvalid AS valid,
       (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        AND con.contype IN ('p', 'u', 'x')) AS constraint,
       d.description AS comment,
       (SELECT inh.inhparent::regclass::text FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid) AS parent
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_description d ON d.objoid = i.indexrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE {in_app_schemas("c.relnamespace")} AND c.relkind IN ('r', 'p', 'm') AND {only_oids("i.indrelid")}
ORDER BY i.indrelid, ic.relname
"""

SCHEMA_POLICIES_SQL = f"""
SELECT p.polrelid AS relid, p.polname AS name,
       CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'
                     WHEN 'd' THEN 'delete' ELSE 'all' END AS command,
       p.polpermissive AS permissive,
       coalesce((SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END ORDER BY 1)
                 FROM unnest(p.polroles) r), '{{public}}') AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE {in_app_schemas("c.relnamespace")} AND {only_oids("p.polrelid")}
ORDER BY p.polrelid, p.polname
"""

SCHEMA_TRIGGERS_SQL = f"""
SELECT t.tgrelid AS relid, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND {in_app_schemas("c.relnamespace")}
  AND (t.tgparentid = 0) AND {only_oids("t.tgrelid")}
ORDER BY t.tgrelid, t.tgname
"""

SCHEMA_SEQUENCES_SQL = f"""
SELECT c.oid, n.nspname AS schema_name, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS minimum, s.seqmax AS maximum,
       s.seqcache AS cache, s.seqcycle AS cycle,
       (SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname) FROM pg_depend d
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
          AND d.refclassid = 'pg_class'::regclass LIMIT 1) AS owned_by,
       {acl_grants("c.relacl", "s", "c.relowner")} AS grants
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {app_object("c.relnamespace", "pg_class", "c.oid")} AND {only_oids("c.oid")}
ORDER BY 2, 3
"""

SCHEMA_FUNCTIONS_SQL = f"""
SELECT n.nspname AS schema_name, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' ELSE 'function' END AS kind,
       CASE WHEN p.prokind IN ('f', 'w') THEN pg_get_function_result(p.oid) END AS returns,
       l.lanname AS language,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
       p.prosecdef AS security_definer,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) ELSE '' END AS definition,
       pg_get_userbyid(p.proowner) AS owner, {acl_grants("p.proacl", "f", "p.proowner")} AS grants
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE {app_object("p.pronamespace", "pg_proc", "p.oid")}
ORDER BY 1, 2, 3
"""

SCHEMA_ENUMS_SQL = f"""
SELECT n.nspname AS schema_name, t.typname AS name,
       array_agg(e.enumlabel ORDER BY e.enumsortorder) AS values,
       {acl_grants("t.typacl", "T", "t.typowner")} AS grants
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
WHERE {app_object("t.typnamespace", "pg_type", "t.oid")}
GROUP BY t.oid, 1, 2 ORDER BY 1, 2
"""

SCHEMA_DOMAINS_SQL = f"""
SELECT n.nspname AS schema_name, t.typname AS name, format_type(t.typbasetype, t.typtypmod) AS base_type,
       t.typnotnull AS not_null, t.typdefault AS default,
       coalesce((SELECT json_object_agg(con.conname, pg_get_constraintdef(con.oid)) FROM pg_constraint con
                 WHERE con.contypid = t.oid), '{{}}') AS constraints,
       {acl_grants("t.typacl", "T", "t.typowner")} AS grants
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND {app_object("t.typnamespace", "pg_type", "t.oid")}
ORDER BY 1, 2
"""

# Composite types made by CREATE TYPE … AS (…) (a table's row type is the table's).
SCHEMA_COMPOSITES_SQL = f"""
SELECT n.nspname AS schema_name, t.typname AS name,
       coalesce((SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod)
                                   || CASE WHEN a.attcollation <> at.typcollation
                                           THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END)
                                 ORDER BY a.attnum)
                 FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
                 LEFT JOIN pg_collation co ON co.oid = a.attcollation
                 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS attributes,
       obj_description(t.oid, 'pg_type') AS comment, {acl_grants("t.typacl", "T", "t.typowner")} AS grants
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typtype = 'c' AND c.relkind = 'c' AND {app_object("t.typnamespace", "pg_type", "t.oid")}
ORDER BY 1, 2
"""

# Extended statistics made by CREATE STATISTICS.
SCHEMA_STATISTICS_SQL = f"""
SELECT n.nspname AS schema_name, s.stxname AS name, pg_get_statisticsobjdef(s.oid) AS definition,
       CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget::int END AS target,
       obj_description(s.oid, 'pg_statistic_ext') AS comment
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE {app_object("s.stxnamespace", "pg_statistic_ext", "s.oid")}
ORDER BY 1, 2
"""

# Collations made by CREATE COLLATION; the whole row as JSON, as its columns differ by major
# (colliculocale in 15 and 16, colllocale from 17, collicurules from 16).
SCHEMA_COLLATIONS_SQL = f"""
SELECT n.nspname AS schema_name, co.collname AS name, to_jsonb(co) AS row,
       obj_description(co.oid, 'pg_collation') AS comment
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE {app_object("co.collnamespace", "pg_collation", "co.oid")}
ORDER BY 1, 2
"""

# Rules made by CREATE RULE; a view's own _RETURN rule is its definition, read with the view.
SCHEMA_RULES_SQL = f"""
SELECT n.nspname AS schema_name, c.relname AS "table", r.rulename AS name, pg_get_ruledef(r.oid) AS definition,
       r.ev_enabled AS enabled
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND {app_object("c.relnamespace", "pg_class", "c.oid")}
ORDER BY 1, 2, 3
"""



# --- incremental reads (pg/incremental.py: what changed since the last read) ------------------------
#
# Every catalog row an object's model is read from, as its row version (xmin: a row written by a
# later transaction has a new one) and key, aggregated per object: a relation's version covers its
# own row and every row its Table or View is read from (columns, defaults, constraints, indexes,
# policies, triggers, rewrite rules, inheritance, comments, owned sequences), so a change to any of
# them, an added one or a removed one changes it. Rows: (group, oid, version), of the relations
# `only_oids` names (all when NULL); the group `relation names` versions only what the definitions
# of other objects print of it (its schema, its name, its columns' and indexes' names: a view's,
# a foreign key's, a regclass constant's), so that its dependents are read again only when that
# changed. OBJECT_VERSIONS_SQL: the other objects, each with its version.
# A relation's row type and its array type are the group `rowtype`: read with the relation, named by
# other tables' columns. The last row is the reading role (`current_user`: owners are compared
# relative to it).
RELATION_VERSIONS_SQL = f"""
WITH rel AS (
  SELECT c.oid FROM pg_class c WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {in_app_schemas("c.relnamespace")}
    AND {only_oids("c.oid")}
), members(owner, item) AS (
  SELECT c.oid, 'c' || c.xmin FROM pg_class c JOIN rel ON rel.oid = c.oid
  UNION ALL SELECT a.attrelid, 'a' || a.attnum || ':' || a.xmin FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid
    WHERE a.attnum > 0
  UNION ALL SELECT ad.adrelid, 'd' || ad.oid || ':' || ad.xmin FROM pg_attrdef ad JOIN rel ON rel.oid = ad.adrelid
  UNION ALL SELECT con.conrelid, 'k' || con.oid || ':' || con.xmin FROM pg_constraint con JOIN rel ON rel.oid = con.conrelid
  UNION ALL SELECT i.indrelid, 'i' || i.indexrelid || ':' || i.xmin || ':' || ic.xmin
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN rel ON rel.oid = i.indrelid
  UNION ALL SELECT p.polrelid, 'p' || p.oid || ':' || p.xmin FROM pg_policy p JOIN rel ON rel.oid = p.polrelid
  UNION ALL SELECT t.tgrelid, 't' || t.oid || ':' || t.xmin FROM pg_trigger t JOIN rel ON rel.oid = t.tgrelid
  UNION ALL SELECT rw.ev_class, 'w' || rw.oid || ':' || rw.xmin FROM pg_rewrite rw JOIN rel ON rel.oid = rw.ev_class
  UNION ALL SELECT coalesce(x.indrelid, h.inhrelid), 'h' || h.inhrelid || ':' || h.inhparent || ':' || h.xmin
    FROM pg_inherits h LEFT JOIN pg_index x ON x.indexrelid = h.inhrelid
    JOIN rel ON rel.oid = coalesce(x.indrelid, h.inhrelid)
  UNION ALL SELECT rel.oid, 'm' || d.classoid || ':' || d.objoid || ':' || d.objsubid || ':' || d.xmin
    FROM rel CROSS JOIN LATERAL (
      SELECT rel.oid AS objoid, 'pg_class'::regclass AS classoid
      UNION ALL SELECT x.indexrelid, 'pg_class'::regclass FROM pg_index x WHERE x.indrelid = rel.oid
      UNION ALL SELECT con.oid, 'pg_constraint'::regclass FROM pg_constraint con WHERE con.conrelid = rel.oid) o
    JOIN pg_description d ON d.objoid = o.objoid AND d.classoid = o.classoid
  UNION ALL SELECT dep.refobjid, 's' || s.oid || ':' || s.xmin || ':' || sq.xmin
    FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid JOIN pg_sequence sq ON sq.seqrelid = s.oid
    JOIN rel ON rel.oid = dep.refobjid
    WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
)
SELECT 'relation' AS "group", owner AS oid, md5(string_agg(item, ',' ORDER BY item)) AS version
FROM members GROUP BY owner
UNION ALL
-- what others print of it: its schema and name, its columns' and its indexes' names
-- (one hash per name, comma-separated: a name only added, a new column's, names nothing a dependent prints)
SELECT 'relation names', c.oid, concat_ws(',', md5(c.relnamespace || ':' || c.relname),
         (SELECT string_agg(md5(a.attnum || ':' || a.attname), ',' ORDER BY a.attnum) FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attnum > 0),
         (SELECT string_agg(md5(ic.oid || ':' || ic.relname), ',' ORDER BY ic.oid)
          FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid WHERE x.indrelid = c.oid))
FROM rel JOIN pg_class c ON c.oid = rel.oid
"""

# Which relations RELATION_VERSIONS_SQL must hash again after a change, so that it reads only
# those instead of all of them. A relation is a candidate when a row its version covers was
# written since the last read (`since`: the xmin of that read's snapshot, as xid; a row written
# later has an xid at least as new, and a frozen row's age is the largest) — an added, altered or
# rewritten member — or when a member was removed, which leaves no row behind: every member but a
# comment has a pg_depend row naming its relation (a constraint, index, policy, trigger, default,
# rule or owned sequence depends on it; a child's inheritance and a partition index's on its table;
# a foreign key's on the referenced table's columns), deleted with it, so the relation's count of
# pg_depend rows either way changes; a comment is counted per relation. A column row is removed
# only with its relation. Rows: ('changed', relid, 0); ('depends', relid, count) for every
# relation (the present ones); ('comments', relid, count); ('since', 0, the next read's `since`).
RELATION_CHANGES_SQL = f"""
WITH rel AS MATERIALIZED (
  SELECT c.oid FROM pg_class c WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {in_app_schemas("c.relnamespace")}
), sequences AS MATERIALIZED (
  SELECT s.seqrelid AS oid FROM pg_sequence s JOIN pg_class sc ON sc.oid = s.seqrelid
  WHERE age(s.xmin) <= age(%(since)s::xid) OR age(sc.xmin) <= age(%(since)s::xid)
), written(oid) AS MATERIALIZED (
  SELECT c.oid FROM pg_class c WHERE age(c.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT a.attrelid FROM pg_attribute a WHERE age(a.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT ad.adrelid FROM pg_attrdef ad WHERE age(ad.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT con.conrelid FROM pg_constraint con WHERE age(con.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT i.indrelid FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE age(i.xmin) <= age(%(since)s::xid) OR age(ic.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT p.polrelid FROM pg_policy p WHERE age(p.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT t.tgrelid FROM pg_trigger t WHERE age(t.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT rw.ev_class FROM pg_rewrite rw WHERE age(rw.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT coalesce(x.indrelid, h.inhrelid) FROM pg_inherits h LEFT JOIN pg_index x ON x.indexrelid = h.inhrelid
    WHERE age(h.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT CASE d.classoid
      WHEN 'pg_class'::regclass THEN coalesce((SELECT x.indrelid FROM pg_index x WHERE x.indexrelid = d.objoid), d.objoid)
      WHEN 'pg_constraint'::regclass THEN (SELECT con.conrelid FROM pg_constraint con WHERE con.oid = d.objoid) END
    FROM pg_description d WHERE age(d.xmin) <= age(%(since)s::xid)
  UNION ALL SELECT dep.refobjid FROM sequences s
    JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = s.oid AND dep.objsubid = 0
    WHERE dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
  UNION ALL SELECT unnest(ARRAY[CASE WHEN d.refclassid = 'pg_class'::regclass THEN d.refobjid END,
                                CASE WHEN d.classid = 'pg_class'::regclass THEN d.objid END])
    FROM pg_depend d WHERE age(d.xmin) <= age(%(since)s::xid)
)
SELECT 'changed' AS kind, w.oid, 0::bigint AS n FROM (SELECT DISTINCT oid FROM written) w JOIN rel ON rel.oid = w.oid
UNION ALL
SELECT 'depends', rel.oid,
       (SELECT count(*) FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = rel.oid)
       + (SELECT count(*) FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = rel.oid)
FROM rel
UNION ALL
SELECT 'comments', rel.oid, count(*)
FROM pg_description d
CROSS JOIN LATERAL (SELECT CASE d.classoid
    WHEN 'pg_class'::regclass THEN coalesce((SELECT x.indrelid FROM pg_index x WHERE x.indexrelid = d.objoid), d.objoid)
    WHEN 'pg_constraint'::regclass THEN (SELECT con.conrelid FROM pg_constraint con WHERE con.oid = d.objoid)
    END AS owner) o
JOIN rel ON rel.oid = o.owner
WHERE d.classoid IN ('pg_class'::regclass, 'pg_constraint'::regclass)
GROUP BY rel.oid
UNION ALL
SELECT 'since', 0, pg_snapshot_xmin(pg_current_snapshot())::text::bigint %% 4294967296
"""

OBJECT_VERSIONS_SQL = f"""
SELECT 'sequence' AS "group", c.oid, c.xmin || ':' || s.xmin FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relkind = 'S' AND {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT 'function', p.oid, p.xmin::text FROM pg_proc p WHERE {in_app_schemas("p.pronamespace")}
UNION ALL
-- (a relation's row type, or its array: the relation's kind by a join, not a lookup per type)
SELECT CASE WHEN coalesce(c.relkind, ec.relkind) <> 'c' THEN 'rowtype' ELSE 'type' END,
       t.oid, t.xmin || ':' || concat_ws(',',
         CASE WHEN t.typtype = 'e' THEN (SELECT string_agg(e.oid || ':' || e.xmin, ',' ORDER BY e.oid) FROM pg_enum e
                                         WHERE e.enumtypid = t.oid) END,
         CASE WHEN t.typtype = 'd' THEN (SELECT string_agg(con.oid || ':' || con.xmin, ',' ORDER BY con.oid)
                                         FROM pg_constraint con WHERE con.contypid = t.oid) END,
         CASE WHEN c.relkind = 'c' THEN (SELECT string_agg(a.attnum || ':' || a.xmin, ',' ORDER BY a.attnum)
                                         FROM pg_attribute a WHERE a.attrelid = t.typrelid) END,
         (SELECT string_agg(d.xmin::text, ',') FROM pg_description d
          WHERE d.classoid = 'pg_type'::regclass AND d.objoid = t.oid))
FROM pg_type t
LEFT JOIN pg_class c ON c.oid = t.typrelid AND t.typrelid <> 0
LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typrelid = 0 AND t.typelem <> 0
LEFT JOIN pg_class ec ON ec.oid = e.typrelid AND e.typrelid <> 0
WHERE {in_app_schemas("t.typnamespace")}
UNION ALL
SELECT 'statistics', s.oid, s.xmin || ':' || coalesce((SELECT string_agg(d.xmin::text, ',') FROM pg_description d
         WHERE d.classoid = 'pg_statistic_ext'::regclass AND d.objoid = s.oid), '')
FROM pg_statistic_ext s WHERE {in_app_schemas("s.stxnamespace")}
UNION ALL
SELECT 'collation', co.oid, co.xmin || ':' || coalesce((SELECT string_agg(d.xmin::text, ',') FROM pg_description d
         WHERE d.classoid = 'pg_collation'::regclass AND d.objoid = co.oid), '')
FROM pg_collation co WHERE {in_app_schemas("co.collnamespace")}
UNION ALL
SELECT 'rule', rw.oid, rw.xmin::text FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class
WHERE rw.rulename <> '_RETURN' AND {in_app_schemas("c.relnamespace")}
UNION ALL
-- objects the model holds none of, but whose names the definitions of others print (an operator in
-- a view or a CHECK, an operator class in an index, a text search configuration or dictionary in a
-- generated column, a function's language): their dependents are read again when they change
SELECT 'operator', o.oid, o.xmin::text FROM pg_operator o WHERE {in_app_schemas("o.oprnamespace")}
UNION ALL
SELECT 'opclass', oc.oid, oc.xmin::text FROM pg_opclass oc WHERE {in_app_schemas("oc.opcnamespace")}
UNION ALL
SELECT 'tsconfig', cfg.oid, cfg.xmin::text FROM pg_ts_config cfg WHERE {in_app_schemas("cfg.cfgnamespace")}
UNION ALL
SELECT 'tsdict', dict.oid, dict.xmin::text FROM pg_ts_dict dict WHERE {in_app_schemas("dict.dictnamespace")}
UNION ALL
SELECT 'language', l.oid, l.xmin::text FROM pg_language l
UNION ALL
SELECT 'schema', n.oid, n.xmin || ':' || n.nspname FROM pg_namespace n WHERE {in_app_schemas("n.oid")}
UNION ALL
SELECT 'extension', e.oid, e.xmin::text FROM pg_extension e
UNION ALL
SELECT 'member', d.objid, d.classid || ':' || d.refobjid FROM pg_depend d WHERE d.deptype = 'e'
UNION ALL
SELECT 'role', r.oid, r.rolname::text FROM pg_roles r
UNION ALL
SELECT 'current_user', 0, current_user::text
"""

# The types built on the given enums (`types`: oids, other types ignored), at any depth: their arrays,
# domains over them, composites and ranges holding them, a range's multirange. An enum's labels print
# inside the constants of those types, which depend on the built type only, so a renamed label
# changes how they print too. Asked only when a type changed: pg_attribute and pg_type have no index
# for it. Rows: (oid).
BUILT_ON_ENUMS_SQL = """
WITH RECURSIVE built(oid) AS (
  SELECT t.oid FROM pg_type t WHERE t.oid = ANY(%(types)s::oid[]) AND t.typtype = 'e'
  UNION
  SELECT more.oid FROM built CROSS JOIN LATERAL (
    SELECT t.oid FROM pg_type t WHERE built.oid IN (t.typbasetype, t.typelem)
    UNION ALL SELECT c.reltype FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE a.atttypid = built.oid AND a.attnum > 0
    UNION ALL SELECT r.rngtypid FROM pg_range r WHERE r.rngsubtype = built.oid
    -- from 14 (read from the row as JSON, as 13 has no such column)
    UNION ALL SELECT (to_jsonb(r) ->> 'rngmultitypid')::oid FROM pg_range r
      WHERE r.rngtypid = built.oid AND to_jsonb(r) ? 'rngmultitypid') AS more
)
SELECT oid FROM built WHERE oid <> ALL(%(types)s::oid[])
"""

# What depends on the given objects (`groups`, `objects`: parallel arrays of the versions queries'
# groups, or `built` for BUILT_ON_ENUMS_SQL's types, and oids), one level: a dependent's printed
# definition may name them. Rows: (catalog, relid), relid the relation or sequence whose model holds
# the dependent (NULL for a function, a type, a statistics object).
DEPENDENTS_SQL = """
WITH asked(grp, objid) AS (SELECT * FROM unnest(%(groups)s::text[], %(objects)s::oid[]))
SELECT DISTINCT d.classid::regclass::text AS catalog,
       CASE d.classid
         WHEN 'pg_class'::regclass THEN coalesce((SELECT x.indrelid FROM pg_index x WHERE x.indexrelid = d.objid), d.objid)
         WHEN 'pg_constraint'::regclass THEN (SELECT nullif(con.conrelid, 0) FROM pg_constraint con WHERE con.oid = d.objid)
         WHEN 'pg_attrdef'::regclass THEN (SELECT ad.adrelid FROM pg_attrdef ad WHERE ad.oid = d.objid)
         WHEN 'pg_rewrite'::regclass THEN (SELECT rw.ev_class FROM pg_rewrite rw WHERE rw.oid = d.objid)
         WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objid)
         WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)
       END AS relid
FROM (SELECT a.objid, CASE a.grp
             WHEN 'relation' THEN 'pg_class'::regclass WHEN 'sequence' THEN 'pg_class'::regclass
             WHEN 'function' THEN 'pg_proc'::regclass WHEN 'statistics' THEN 'pg_statistic_ext'::regclass
             WHEN 'collation' THEN 'pg_collation'::regclass WHEN 'rule' THEN 'pg_rewrite'::regclass
             WHEN 'operator' THEN 'pg_operator'::regclass WHEN 'opclass' THEN 'pg_opclass'::regclass
             WHEN 'tsconfig' THEN 'pg_ts_config'::regclass WHEN 'tsdict' THEN 'pg_ts_dict'::regclass
             WHEN 'language' THEN 'pg_language'::regclass END AS classid
      FROM asked a WHERE a.grp NOT IN ('type', 'rowtype', 'built')
      UNION ALL
      SELECT a.objid, 'pg_type'::regclass FROM asked a WHERE a.grp IN ('type', 'rowtype', 'built')
      -- an index is read with its table, but a regclass constant ('app.t_pkey'::regclass) names it itself
      UNION ALL
      SELECT x.indexrelid, 'pg_class'::regclass FROM asked a JOIN pg_index x ON x.indrelid = a.objid
      WHERE a.grp = 'relation'
      -- a field of a composite type ((x).a) is recorded as a use of its relation's column, not of the type
      UNION ALL
      SELECT t.typrelid, 'pg_class'::regclass FROM asked a JOIN pg_type t ON t.oid = a.objid
      WHERE a.grp = 'type' AND t.typrelid <> 0) AS r
JOIN pg_depend d ON d.refobjid = r.objid AND d.refclassid = r.classid
WHERE d.deptype IN ('n', 'a', 'i', 'P', 'S')
  -- a relation's TOAST table, its row type and that type's array type are the relation's, read with it
  AND NOT (d.classid = 'pg_class'::regclass AND EXISTS (SELECT FROM pg_class c WHERE c.oid = d.objid AND c.relkind = 't'))
  AND NOT (d.classid = 'pg_type'::regclass AND EXISTS (
      SELECT FROM pg_type t JOIN pg_class c ON c.relkind <> 'c'
        AND c.oid IN (t.typrelid, (SELECT e.typrelid FROM pg_type e WHERE e.oid = t.typelem))
      WHERE t.oid = d.objid))
"""

# Partitions whose bounds may print a label of the given enums (`types`: oids, other types ignored): of a parent whose key
# is a column of one of them, or of a domain or array over one, or is an expression. A bound records
# no dependency on its values' type, so DEPENDENTS_SQL does not find it when an enum label is renamed
# (a key column of a domain over the enum depends on the domain only). Rows: (relid).
PARTITIONS_BY_TYPES_SQL = f"""
WITH RECURSIVE types(oid) AS (
  SELECT t.oid FROM pg_type t WHERE t.oid = ANY(%(types)s::oid[]) AND t.typtype = 'e'
  UNION SELECT t.oid FROM pg_type t JOIN types ON types.oid IN (t.typbasetype, t.typelem)
)
SELECT c.oid FROM pg_class c
JOIN pg_inherits i ON i.inhrelid = c.oid
JOIN pg_partitioned_table pt ON pt.partrelid = i.inhparent
WHERE c.relispartition AND {in_app_schemas("c.relnamespace")}
  AND EXISTS (SELECT FROM unnest(pt.partattrs::int2[]) k(attnum)
              LEFT JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum
              WHERE k.attnum = 0 OR a.atttypid IN (SELECT oid FROM types))
"""

# --- the RLS audit and probe (rls/audit.py: read_catalog) ------------------------------------------

RLS_TENANT_TABLES_SQL = f"""
SELECT c.oid, n.nspname AS schema_name, c.relname AS name, c.relkind::text AS relkind,
       c.relowner AS owner_oid, pg_get_userbyid(c.relowner) AS owner,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced, c.relispartition AS is_partition,
       (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition) AS parent_oid,
       a.attnum AS tenant_attnum, NOT a.attnotnull AS tenant_nullable,
       format_type(a.atttypid, a.atttypmod) AS tenant_type
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND {app_object("c.relnamespace", "pg_class", "c.oid")}
ORDER BY 2, 3
"""

# The names exempt_tables may use: any relation of the application's schemas (extension members too).
RLS_RELATION_NAMES_SQL = f"""
SELECT n.nspname AS schema_name, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {in_app_schemas("c.relnamespace")}
"""

RLS_ROLES_SQL = """
SELECT u.name, r.oid, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
       coalesce(array(SELECT m.rolname FROM pg_roles m
                      WHERE r.oid IS NOT NULL AND m.oid <> r.oid AND m.rolsuper AND pg_has_role(r.oid, m.oid, 'MEMBER')
                      ORDER BY 1), '{}') AS superuser_via,
       coalesce(array(SELECT m.rolname FROM pg_roles m
                      WHERE r.oid IS NOT NULL AND m.oid <> r.oid AND m.rolbypassrls AND NOT m.rolsuper
                        AND pg_has_role(r.oid, m.oid, 'MEMBER')
                      ORDER BY 1), '{}') AS bypassrls_via
FROM unnest(%(roles)s::text[]) WITH ORDINALITY AS u(name, position)
LEFT JOIN pg_roles r ON r.rolname = u.name
ORDER BY u.position
"""

# Scoped to the multi-tenant tables RLS_TENANT_TABLES_SQL found (`oids`).
RLS_ACCESS_SQL = """
SELECT c.oid AS relid, r.rolname AS role,
       has_any_column_privilege(r.oid, c.oid, 'SELECT') AS select,
       has_any_column_privilege(r.oid, c.oid, 'INSERT') AS insert,
       has_any_column_privilege(r.oid, c.oid, 'UPDATE') AS update,
       has_table_privilege(r.oid, c.oid, 'DELETE') AS delete,
       has_table_privilege(r.oid, c.oid, 'TRUNCATE') AS truncate,
       c.relowner = r.oid AS owner,
       pg_has_role(r.oid, c.relowner, 'MEMBER') AS member_of_owner
FROM pg_class c CROSS JOIN pg_roles r
WHERE c.oid = ANY(%(oids)s) AND r.rolname = ANY(%(roles)s)
"""

RLS_POLICIES_SQL = """
SELECT p.polrelid AS relid, p.polname AS name, p.polcmd::text AS command, p.polpermissive AS permissive,
       coalesce(array(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r
                      ORDER BY 1), '{public}') AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
       coalesce(array(SELECT a.rolname FROM pg_roles a WHERE a.rolname = ANY(%(roles)s)
                        AND (0 = ANY(p.polroles) OR EXISTS (SELECT 1 FROM unnest(p.polroles) r
                                                            WHERE r <> 0 AND pg_has_role(a.oid, r, 'USAGE')))
                      ORDER BY 1), '{}') AS applies_to
FROM pg_policy p
WHERE p.polrelid = ANY(%(oids)s)
ORDER BY p.polrelid, p.polname
"""

RLS_UNIQUE_KEYS_SQL = """
SELECT i.indrelid AS relid, ic.relname AS name, i.indisprimary AS primary,
       (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
          AND con.contype IN ('p', 'u')) AS constraint_name,
       array(SELECT k FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(k, o) WHERE o <= i.indnkeyatts ORDER BY o)
         AS attnums,
       array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k)
         AS columns,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       coalesce((SELECT bool_and(a.attidentity <> ''
                                 OR coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
                                    ~* '^(nextval|gen_random_uuid|uuid_generate_v[14]|uuidv[47])\\(')
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(k, o)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.k
                 LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                 WHERE u.o <= i.indnkeyatts), false)
         AND i.indexprs IS NULL AS surrogate
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indisunique AND i.indrelid = ANY(%(oids)s)
  AND NOT EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.indexrelid)
ORDER BY i.indrelid, ic.relname
"""

RLS_FOREIGN_KEYS_SQL = """
SELECT con.conrelid AS relid, con.conname AS name, con.confrelid AS refrelid,
       con.confrelid::regclass::text AS references,
       con.conkey::int2[] AS attnums, con.confkey::int2[] AS ref_attnums,
       array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
       array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_columns
FROM pg_constraint con
WHERE con.contype = 'f' AND con.conrelid = ANY(%(oids)s) AND con.conparentid = 0
ORDER BY con.conrelid, con.conname
"""

RLS_VIEWS_SQL = f"""
SELECT v.oid, n.nspname AS schema_name, v.relname AS name, v.relkind::text AS relkind,
       v.relowner AS owner_oid, pg_get_userbyid(v.relowner) AS owner,
       coalesce((SELECT o.option_value::boolean FROM pg_options_to_table(v.reloptions) o
                 WHERE o.option_name = 'security_invoker'), false) AS security_invoker,
       array(SELECT DISTINCT d.refobjid FROM pg_rewrite rw
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
             WHERE rw.ev_class = v.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid) AS reads,
       coalesce(array(SELECT a.rolname FROM pg_roles a WHERE a.rolname = ANY(%(roles)s)
                        AND has_any_column_privilege(a.oid, v.oid, 'SELECT') ORDER BY 1), '{{}}') AS readable_by,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = v.oid AND a.attname = %(column)s
               AND NOT a.attisdropped) AS has_tenant_column,
       v.relispopulated AS populated
FROM pg_class v JOIN pg_namespace n ON n.oid = v.relnamespace
WHERE v.relkind IN ('v', 'm') AND {app_object("v.relnamespace", "pg_class", "v.oid")}
ORDER BY 2, 3
"""

RLS_FUNCTIONS_SQL = f"""
SELECT p.oid, n.nspname AS schema_name, p.proname AS name, p.oid::regprocedure::text AS signature,
       p.prosecdef AS security_definer, p.prorettype = 'trigger'::regtype AS trigger,
       p.proowner AS owner_oid, pg_get_userbyid(p.proowner) AS owner,
       l.lanname AS language, CASE WHEN l.lanname IN ('c', 'internal') THEN '' ELSE p.prosrc END AS body,
       coalesce(array(SELECT a.rolname FROM pg_roles a WHERE a.rolname = ANY(%(roles)s)
                        AND has_function_privilege(a.oid, p.oid, 'EXECUTE') ORDER BY 1), '{{}}') AS executable_by,
       array(SELECT DISTINCT d.refobjid FROM pg_depend d
             WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_class'::regclass)
         AS reads
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p') AND {app_object("p.pronamespace", "pg_proc", "p.oid")}
ORDER BY 2, 3, 4
"""

RLS_ROLE_FACTS_SQL = """
SELECT a.oid, a.rolname AS name, a.rolsuper AS superuser, a.rolbypassrls AS bypassrls,
       array(SELECT b.oid FROM pg_roles b WHERE b.oid = ANY(%(owners)s) AND pg_has_role(a.oid, b.oid, 'USAGE'))
         AS privileges_of
FROM pg_roles a WHERE a.oid = ANY(%(roles)s)
"""


# --- the row generator (rls/rowgen.py: read_schema) ------------------------------------------------
# Columns, keys and constraints are read for every table of the application's schemas; the
# generator keeps those of the relations ROWGEN_RELATIONS_SQL returned.

ROWGEN_RELATIONS_SQL = f"""
SELECT c.oid, n.nspname AS schema_name, c.relname AS name, c.relkind::text AS relkind,
       c.relispartition AS is_partition,
       (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition) AS parent_oid,
       pg_get_expr(c.relpartbound, c.oid) AS bound,
       pt.partstrat::text AS strategy,
       coalesce(pt.partattrs::int2[], '{{}}') AS key_attnums
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
WHERE c.relkind IN ('r', 'p') AND {app_object("c.relnamespace", "pg_class", "c.oid")}
ORDER BY 2, 3
"""

ROWGEN_COLUMNS_SQL = f"""
SELECT a.attrelid AS relid, a.attnum, a.attname AS name, a.atttypid AS type_oid,
       format_type(a.atttypid, a.atttypmod) AS type, a.atttypmod AS typmod, a.attnotnull AS not_null,
       a.atthasdef AS has_default, a.attidentity::text AS identity, a.attgenerated::text AS generated
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {in_app_schemas("c.relnamespace")}
ORDER BY a.attrelid, a.attnum
"""

# The types of those columns, with the base types under their domains (from any schema).
ROWGEN_TYPES_SQL = f"""
WITH RECURSIVE used(oid) AS (
    SELECT DISTINCT a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE a.attnum > 0 AND c.relkind IN ('r', 'p') AND {in_app_schemas("c.relnamespace")}
  UNION
    SELECT t.typbasetype FROM pg_type t JOIN used u ON u.oid = t.oid WHERE t.typtype = 'd'
)
SELECT t.oid, format_type(t.oid, NULL) AS name, t.typname, t.typtype::text AS typtype,
       t.typcategory::text AS category, t.typbasetype AS base_oid, t.typtypmod AS base_typmod, t.typelem AS elem,
       array(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] AS labels
FROM pg_type t WHERE t.oid IN (SELECT oid FROM used)
"""

# Foreign keys as the child sees them: its own, and those cloned from its partitioned parent, but
# not the per-partition clones PostgreSQL adds on the referencing side for a partitioned target.
ROWGEN_FOREIGN_KEYS_SQL = f"""
SELECT con.conrelid AS relid, con.conname AS name, con.confrelid AS refrelid,
       array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS columns,
       array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS ref_columns
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype = 'f' AND {in_app_schemas("c.relnamespace")}
  AND (con.conparentid = 0 OR (SELECT p.conrelid FROM pg_constraint p WHERE p.oid = con.conparentid) <> con.conrelid)
ORDER BY con.conrelid, con.conname
"""

# Constraint and unique-index names -> columns, to map an error back to what to change.
ROWGEN_CONSTRAINT_COLUMNS_SQL = f"""
SELECT con.conrelid AS relid, con.conname AS name, con.contype::text AS kind,
       array(SELECT a.attname FROM unnest(con.conkey) k(n)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n)::text[] AS columns,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END AS expression
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype IN ('c', 'u', 'p', 'x', 'f') AND {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT i.indrelid, ic.relname, CASE WHEN i.indisunique THEN 'i' ELSE 'n' END,
       array(SELECT a.attname FROM unnest(i.indkey::int2[]) k(n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)::text[], NULL
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
WHERE i.indisunique AND {in_app_schemas("c.relnamespace")}
"""


# --- the lock trace (plan/trace.py) ----------------------------------------------------------------

TRACE_FILENODES_SQL = f"""
SELECT c.oid, n.nspname || '.' || c.relname AS relation, c.relkind, pg_relation_filenode(c.oid) AS filenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND {app_object("c.relnamespace", "pg_class", "c.oid")}
"""

TRACE_SIZES_SQL = f"""
SELECT n.nspname || '.' || c.relname AS relation, greatest(c.reltuples, 0)::bigint AS rows,
       pg_total_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND {app_object("c.relnamespace", "pg_class", "c.oid")}
"""

# After each statement, one round trip, scoped to the tables that existed before the migration
# (`tables`, oids): the storage file of each, and the relation locks this backend now holds on
# them. The scope keeps the query small on large schemas and many statements.
TRACE_AFTER_STATEMENT_SQL = """
SELECT 'file' AS what, t.oid::bigint, NULL::text, pg_relation_filenode(t.oid)::bigint
FROM unnest(%(tables)s::oid[]) AS t(oid)
UNION ALL
SELECT 'lock', l.relation::bigint, l.mode, NULL
FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype = 'relation' AND l.relation = ANY(%(tables)s::oid[])
"""


# --- `query` (query/command.py) --------------------------------------------------------------------
# Scoped to the relations the query names (`refs`, as regclass text), in whatever schema they
# are: a name the user wrote is always described, so the tenant check never misses a table.

QUERY_RELATIONS_SQL = """
WITH RECURSIVE refs AS (
    SELECT ref, to_regclass(ref)::oid AS oid FROM unnest(%(refs)s::text[]) AS r(ref)
), deps(root, rel) AS (
    SELECT oid, oid FROM refs WHERE oid IS NOT NULL
    UNION
    SELECT d.root, dep.refobjid
    FROM deps d
    JOIN pg_rewrite rw ON rw.ev_class = d.rel
    JOIN pg_depend dep ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = rw.oid
                      AND dep.refclassid = 'pg_class'::regclass AND dep.refobjid <> d.rel
)
SELECT r.ref,
       format('%%I.%%I', n.nspname, c.relname) AS name,
       c.relkind::text AS kind,
       EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %(column)s
                                            AND a.attnum > 0 AND NOT a.attisdropped) AS has_tenant,
       c.relkind IN ('r', 'p') AND row_security_active(c.oid::regclass) AS rls_active,
       EXISTS (SELECT FROM unnest(c.reloptions) o
               WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on', 'security_invoker=1',
                                  'security_invoker=yes')) AS security_invoker,
       ARRAY(SELECT format('%%I.%%I', bn.nspname, b.relname) || ':'
                    || (b.relkind IN ('r', 'p') AND row_security_active(b.oid::regclass))::text
             FROM deps d
             JOIN pg_class b ON b.oid = d.rel
             JOIN pg_namespace bn ON bn.oid = b.relnamespace
             WHERE d.root = c.oid AND d.rel <> c.oid AND b.relkind IN ('r', 'p', 'f', 'm')
               AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = b.oid AND a.attname = %(column)s
                                                        AND a.attnum > 0 AND NOT a.attisdropped)
             ORDER BY 1) AS tenant_bases
FROM refs r
JOIN pg_class c ON c.oid = r.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
"""


def named_relations(cur: psycopg.Cursor, refs: list[str], tenant_column: str) -> list[tuple]:
    """One row per relation `refs` names that exists (see QUERY_RELATIONS_SQL), on the caller's cursor."""
    cur.execute(QUERY_RELATIONS_SQL, {"refs": refs, "column": tenant_column})
    return cur.fetchall()


# --- scan-app (scan/tables.py: the monitored tables when production names them) -------------------

# Relations with the tenant column that application SQL reads: tables (plain and partitioned), views,
# materialized views and foreign tables. Partitions are read through their parent and named alike.
SCAN_TENANT_RELATIONS_SQL = f"""
SELECT DISTINCT c.relname
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {app_object("c.relnamespace", "pg_class", "c.oid")}
ORDER BY 1
"""


# --- dependency edges (pg_depend, and pg_rewrite for views) ----------------------------------------

# The normal ('n') dependencies PostgreSQL records between objects of the kinds an edge may join:
# what a view (its _RETURN rule), a rule, a function (its signature, and a SQL-standard body), a
# policy, a trigger, a default or generated column, a constraint, an index or a column's type
# uses. Structural ones (a column's table, an index's table, a sequence's owner) are the model's
# own (`schema/depends.py`). And the columns an index's expressions or predicate read: PostgreSQL
# records them as automatic ('a') dependencies, like its plain key columns, once per expression
# list (so a column that is also a key column shows twice); ALTER COLUMN TYPE keeps the casts it
# adds to such an index, so the diff recreates it around the change.
# Read apart from the objects they name and joined in Python: a join of
# pg_depend to the union below is planned from the catalogs' statistics, and on a database just
# made by a replay (none yet) it took 80 s for 1,000 tables instead of half a second.
_DIRECT_EDGES = """
FROM pg_depend d
WHERE d.deptype = 'n'
  AND d.classid IN ('pg_rewrite'::regclass, 'pg_proc'::regclass, 'pg_policy'::regclass, 'pg_trigger'::regclass,
                    'pg_attrdef'::regclass, 'pg_constraint'::regclass, 'pg_class'::regclass)
  AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
"""
_EDGE_COLUMNS = """d.classid::regclass::text AS catalog, d.objid, d.objsubid,
       d.refclassid::regclass::text AS ref_catalog, d.refobjid, d.refobjsubid"""
_EXPRESSION_EDGES = """
FROM pg_depend d JOIN pg_index i ON i.indexrelid = d.objid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
  AND d.refobjsubid > 0 AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
GROUP BY d.objid, d.refobjid, d.refobjsubid, i.indkey
HAVING count(*) > CASE WHEN d.refobjsubid = ANY (i.indkey::int2[]) THEN 1 ELSE 0 END
"""
SCHEMA_DEPENDENCY_EDGES_SQL = f"""
SELECT {_EDGE_COLUMNS}
{_DIRECT_EDGES}
UNION
SELECT 'pg_class', d.objid, 0, 'pg_class', d.refobjid, d.refobjsubid
{_EXPRESSION_EDGES}
"""

# The edges again after a change, for `pg/dependencies.py` to patch the last read's with: the
# direct ones (pg_depend rows) written since `since` (as RELATION_CHANGES_SQL's), and how many
# there are now — when that is the last count plus the written ones, none was deleted or changed
# in place (an updated row's old version is gone, its new one written: the count falls short) —,
# and all the index-expression ones (few, and a deleted index's leave no row behind). `since` '2' (frozen: the oldest) asks for every direct
# edge. Rows: (what: 'written' | 'count' | 'expression', catalog, objid, objsubid, ref_catalog,
# refobjid, refobjsubid); the count is the 'count' row's objsubid.
SCHEMA_DEPENDENCY_EDGE_CHANGES_SQL = f"""
SELECT 'written' AS what, {_EDGE_COLUMNS}
{_DIRECT_EDGES}
  AND age(d.xmin) <= age(%(since)s::xid)
UNION ALL
SELECT 'count', NULL, NULL, count(*)::int, NULL, NULL, NULL
{_DIRECT_EDGES}
UNION ALL
SELECT DISTINCT 'expression', 'pg_class', d.objid, 0, 'pg_class', d.refobjid, d.refobjsubid
{_EXPRESSION_EDGES}
"""

# The application objects the edges name, given by catalog (`%(class_oids)s`, `%(proc_oids)s`, …;
# each branch looks its own oids up by index, driven by the array) and the columns
# `%(relids)s`/`%(attnums)s`, as (catalog, oid, sub-id) →
# (kind, name parts) (a function's name part is its signature, name(arguments), as a change's path
# names it): a column of a table is its own object, a column of a view or a composite type is the
# view or the type; a view's _RETURN rule is the view; a column default or generation expression
# (pg_attrdef) is its column; a domain's CHECK is the domain; an array type is its element type,
# and a table's row type is the table. `owner`: the object (as the versions queries group them) whose
# change can rename it — the table of a column, an index, a constraint, a policy …; the composite
# type of an attribute; the type of a domain's CHECK (pg/dependencies.py refreshes by it).
SCHEMA_DEPENDENCY_OBJECTS_SQL = f"""
SELECT 'pg_class' AS catalog, c.oid AS objid, 0 AS objsubid,
       CASE WHEN c.relkind IN ('r', 'p', 'f') THEN 'table' WHEN c.relkind IN ('v', 'm') THEN 'view'
            WHEN c.relkind = 'S' THEN 'sequence' WHEN c.relkind = 'c' THEN 'type' ELSE 'index' END AS kind,
       ARRAY[n.nspname, c.relname] AS parts,
       CASE WHEN c.relkind = 'c' THEN c.reltype
            WHEN c.relkind IN ('i', 'I') THEN (SELECT x.indrelid FROM pg_index x WHERE x.indexrelid = c.oid)
            ELSE c.oid END AS owner
FROM unnest(%(class_oids)s::oid[]) w(oid) JOIN pg_class c ON c.oid = w.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c', 'i', 'I') AND {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT 'pg_class', c.oid, a.attnum,
       CASE WHEN c.relkind IN ('r', 'p', 'f') THEN 'column' WHEN c.relkind = 'c' THEN 'type' ELSE 'view' END,
       CASE WHEN c.relkind IN ('r', 'p', 'f') THEN ARRAY[n.nspname, c.relname, a.attname]
            ELSE ARRAY[n.nspname, c.relname] END,
       CASE WHEN c.relkind = 'c' THEN c.reltype ELSE c.oid END
FROM unnest(%(relids)s::oid[], %(attnums)s::int2[]) w(relid, attnum)
JOIN pg_attribute a ON a.attrelid = w.relid AND a.attnum = w.attnum
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') AND {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT 'pg_proc', p.oid, 0, 'function', ARRAY[n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'],
       p.oid
FROM unnest(%(proc_oids)s::oid[]) w(oid) JOIN pg_proc p ON p.oid = w.oid JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {in_app_schemas("p.pronamespace")}
UNION ALL
SELECT 'pg_type', t.oid, 0,
       CASE WHEN c.relkind IN ('r', 'p', 'f') THEN 'table' WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'type' END,
       ARRAY[n.nspname, coalesce(c.relname, e.typname)],
       CASE WHEN c.relkind IN ('r', 'p', 'f', 'v', 'm') THEN c.oid ELSE e.oid END
FROM unnest(%(type_oids)s::oid[]) w(oid) JOIN pg_type t ON t.oid = w.oid
JOIN pg_type e ON e.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
JOIN pg_namespace n ON n.oid = e.typnamespace LEFT JOIN pg_class c ON c.oid = e.typrelid
WHERE {in_app_schemas("e.typnamespace")}
UNION ALL
SELECT 'pg_rewrite', r.oid, 0, CASE WHEN r.rulename = '_RETURN' THEN 'view' ELSE 'rule' END,
       CASE WHEN r.rulename = '_RETURN' THEN ARRAY[n.nspname, c.relname] ELSE ARRAY[n.nspname, c.relname, r.rulename] END,
       r.ev_class
FROM unnest(%(rewrite_oids)s::oid[]) w(oid) JOIN pg_rewrite r ON r.oid = w.oid
JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT 'pg_policy', p.oid, 0, 'policy', ARRAY[n.nspname, c.relname, p.polname], p.polrelid
FROM unnest(%(policy_oids)s::oid[]) w(oid) JOIN pg_policy p ON p.oid = w.oid
JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT 'pg_trigger', t.oid, 0, 'trigger', ARRAY[n.nspname, c.relname, t.tgname], t.tgrelid
FROM unnest(%(trigger_oids)s::oid[]) w(oid) JOIN pg_trigger t ON t.oid = w.oid
JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT 'pg_attrdef', d.oid, 0, 'column', ARRAY[n.nspname, c.relname, a.attname], d.adrelid
FROM unnest(%(attrdef_oids)s::oid[]) w(oid) JOIN pg_attrdef d ON d.oid = w.oid
JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE {in_app_schemas("c.relnamespace")}
UNION ALL
SELECT 'pg_constraint', k.oid, 0, CASE WHEN k.conrelid <> 0 THEN 'constraint' ELSE 'type' END,
       CASE WHEN k.conrelid <> 0 THEN ARRAY[n.nspname, c.relname, k.conname] ELSE ARRAY[n.nspname, t.typname] END,
       CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END
FROM unnest(%(constraint_oids)s::oid[]) w(oid) JOIN pg_constraint k ON k.oid = w.oid
JOIN pg_namespace n ON n.oid = k.connamespace
LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
WHERE {in_app_schemas("k.connamespace")}
"""
