"""What production must allow the role migguard connects as, checked before anything is touched.

Production is often owned by a non-superuser role, under FORCE ROW LEVEL SECURITY. Rather than
fail half-way (pg_dump's "query would be affected by row-level security policy" once the apply
has started, a history table that cannot be created), `plan` and `apply` ask the catalog first
and name every missing privilege, one line each: what lacks it, which step needs it, how to grant
it. What each step needs, read from what it runs:

- every command reads migguard's history tables (USAGE on their schema, SELECT); plan's
  `pg_dump --schema-only` locks every table (USAGE on its schema, SELECT on it);
- the backup (`pg_dump -Fc`, whole or the affected tables): the same, SELECT on the sequences it
  dumps, and rows it may read in full: a table under row-level security needs BYPASSRLS, unless
  the role owns it and the security is not forced (pg_dump runs with row_security off);
- apply's writes: CREATE on the database (the history's `CREATE SCHEMA IF NOT EXISTS`, which
  PostgreSQL checks even when the schema exists), CREATE on the history schema while a table of
  migguard's is missing there, SELECT, INSERT, UPDATE and DELETE on those that exist; ownership
  of every existing table the plan alters; CREATE on each existing schema it creates objects in.

A superuser has everything. Only the catalog is read (has_*_privilege, pg_has_role), never a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from migguard.core.errors import DatabaseError
from migguard.core.identifiers import quote_ident, quote_qualified
from migguard.pg import progress
from migguard.pg.connect import connect
from migguard.pg.history import split_name

SHOWN = 5  # names listed per line; the rest are counted

ROLE_SQL = """
SELECT current_user, r.rolsuper, r.rolbypassrls, current_database(),
       has_database_privilege(current_database(), 'CREATE')
FROM pg_roles r WHERE r.rolname = current_user
"""

# Every relation pg_dump locks or reads, outside the system schemas and extensions.
RELATIONS_SQL = """
SELECT n.nspname, c.relname, c.relkind::text,
       has_schema_privilege(n.oid, 'USAGE'),
       CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT')
            ELSE has_table_privilege(c.oid, 'SELECT') END,
       c.relrowsecurity, c.relforcerowsecurity, pg_has_role(c.relowner, 'USAGE')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype = 'e')
ORDER BY 1, 2
"""

SCHEMA_SQL = """
SELECT n.nspname, has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, 'CREATE')
FROM pg_namespace n WHERE n.nspname = ANY(%s)
"""

TABLE_SQL = """
SELECT n.nspname, c.relname, has_table_privilege(c.oid, 'SELECT'), has_table_privilege(c.oid, 'INSERT'),
       has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'DELETE'), pg_has_role(c.relowner, 'USAGE')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""


def own_tables(history_table: str, *others: str) -> tuple[tuple[str, str], ...]:
    """(schema, table) of migguard's tables for `history_table`: the history, its progress table,
    and `others` in the history's schema (apply's audit head)."""
    schema, table = split_name(history_table)
    return ((schema, table), progress.table_path(history_table), *((schema, other) for other in others))


@dataclass(frozen=True)
class Needs:
    """What a command is about to do in production."""

    history: tuple[tuple[str, str], ...]  # (schema, table) of migguard's own tables (history, progress, head)
    schema_dump: bool = True  # plan's pg_dump --schema-only (every command reads the history)
    backup: str = "none"  # full | affected | none
    backup_tables: tuple[tuple[str, str], ...] = ()  # with backup "affected"
    writes: bool = False  # apply: the history writes
    altered: tuple[tuple[str, str], ...] = ()  # existing tables the plan alters: the role must own them
    creates_in: tuple[str, ...] = ()  # existing schemas the plan creates objects in


class PreflightRefused(DatabaseError):
    """Production does not grant the connecting role what the command needs (exit 3); nothing was
    touched. `missing` holds one line per missing privilege. Audited as a refusal that does not count
    toward lockdown: a missing grant is the database's set-up, not a person breaking policy."""

    audit_reason_kind = "preflight"

    def __init__(self, what: str, role: str, missing: list[str]) -> None:
        self.role = role
        self.missing = tuple(missing)
        head = missing[0] if len(missing) == 1 else f"{len(missing)} privileges (one line each below)"
        super().__init__(f"production refuses {what}: role {role} lacks {head}; nothing was touched",
                         detail="\n".join(missing) if len(missing) > 1 else None)


def require(url: str, needs: Needs, what: str) -> None:
    """Raise PreflightRefused naming every privilege `needs` lacks (see the module docstring)."""
    with connect(url) as conn:
        role, missing = check(conn, needs)
        conn.rollback()
    if missing:
        raise PreflightRefused(what, role, missing)


def check(conn: psycopg.Connection, needs: Needs) -> tuple[str, list[str]]:
    """The connecting role and one line per privilege it lacks for `needs` (empty: none)."""
    role, superuser, bypassrls, database, create_database = conn.execute(ROLE_SQL).fetchone()
    if superuser:
        return role, []
    missing: list[str] = []
    grantee = quote_ident(role)
    history_schemas = sorted({schema for schema, _ in needs.history})
    schemas = {r[0]: (r[1], r[2]) for r in conn.execute(
        SCHEMA_SQL, (sorted({*history_schemas, *needs.creates_in}),)).fetchall()}
    tables = {(r[0], r[1]): r[2:] for r in conn.execute(
        TABLE_SQL, ([s for s, _ in (*needs.history, *needs.altered)],
                    [t for _, t in (*needs.history, *needs.altered)])).fetchall()}

    dump_lines, no_usage = _dump_lines(conn, needs, bypassrls, grantee)
    missing += dump_lines
    existing = [(s, t) for s, t in needs.history if (s, t) in tables]
    closed = sorted(s for s in history_schemas if s in schemas and not schemas[s][0] and s not in no_usage)
    if closed:
        missing.append(f"USAGE on schema {_names(quote_ident(s) for s in closed)}: plan, status and apply read "
                       f"migguard's history there (GRANT USAGE ON SCHEMA … TO {grantee})")
    if not needs.writes:  # the writes' line names SELECT with the rest
        unread = [(s, t) for s, t in existing if not tables[(s, t)][0]]
        if unread:
            missing.append(f"SELECT on {_names(quote_qualified(*n) for n in unread)}: plan, status and apply read "
                           f"migguard's history there (GRANT SELECT ON … TO {grantee})")
    if needs.writes:
        if not create_database:
            missing.append(f"CREATE on database {quote_ident(database)}: apply runs CREATE SCHEMA IF NOT EXISTS "
                           f"{_names(quote_ident(s) for s in history_schemas)} for its history, which PostgreSQL "
                           f"checks even when the schema exists (GRANT CREATE ON DATABASE … TO {grantee})")
        absent = [(s, t) for s, t in needs.history if (s, t) not in tables]
        blocked = sorted({s for s, _ in absent if s in schemas and not schemas[s][1]})
        if blocked:
            missing.append(f"CREATE on schema {_names(quote_ident(s) for s in blocked)}: apply creates "
                           f"{_names(quote_qualified(*n) for n in absent if n[0] in blocked)} there "
                           f"(GRANT CREATE ON SCHEMA … TO {grantee})")
        unwritable = [(s, t) for s, t in existing if not all(tables[(s, t)][:4])]
        if unwritable:
            missing.append(f"SELECT, INSERT, UPDATE, DELETE on {_names(quote_qualified(*n) for n in unwritable)}: "
                           f"apply and rollback record migguard's history there (GRANT … ON … TO {grantee})")
        not_owned = [(s, t) for s, t in needs.altered if (s, t) in tables and not tables[(s, t)][4]]
        if not_owned:
            missing.append(f"ownership of {_names(quote_qualified(*n) for n in not_owned)}: the pending migrations "
                           f"alter these tables, which only their owner may do (ALTER TABLE … OWNER TO {grantee}, "
                           f"or GRANT the owner role TO {grantee})")
        no_create = sorted(s for s in needs.creates_in if s in schemas and not schemas[s][1])
        if no_create:
            missing.append(f"CREATE on schema {_names(quote_ident(s) for s in no_create)}: the pending migrations "
                           f"create objects there (GRANT CREATE ON SCHEMA … TO {grantee})")
    return role, missing


def _dump_lines(conn: psycopg.Connection, needs: Needs, bypassrls: bool, grantee: str) -> tuple[list[str], list[str]]:
    """What pg_dump needs (plan's schema copy, the backup): the lines, and the schemas lacking USAGE."""
    missing: list[str] = []
    if not (needs.schema_dump or needs.backup != "none"):
        return missing, []
    relations = conn.execute(RELATIONS_SQL).fetchall()
    dumped = _dumped(relations, needs.backup, needs.backup_tables)
    scope = relations if needs.schema_dump else dumped  # what some pg_dump locks
    step = ("pg_dump (plan's schema copy and the backup)" if needs.schema_dump and needs.backup != "none" else
            "pg_dump --schema-only (plan's copy of production's schema)" if needs.schema_dump else
            "the backup (pg_dump)")
    no_usage = sorted({r[0] for r in scope if not r[3]})
    if no_usage:
        missing.append(f"USAGE on schema {_names(quote_ident(s) for s in no_usage)}: {step} locks every table "
                       f"in it (GRANT USAGE ON SCHEMA … TO {grantee})")
    unread = [r for r in scope if r[2] in ("r", "p") and not r[4] and (r[0], r[1]) not in needs.history]
    if unread:
        missing.append(f"SELECT on {_names(quote_qualified(r[0], r[1]) for r in unread)}: {step} locks every "
                       f"table it dumps (GRANT SELECT ON … TO {grantee})")
    if needs.backup == "none":
        return missing, no_usage
    sequences = [r for r in dumped if r[2] == "S" and not r[4]]
    if sequences:
        missing.append(f"SELECT on sequence {_names(quote_qualified(r[0], r[1]) for r in sequences)}: the "
                       f"backup (pg_dump) reads each sequence's position (GRANT SELECT ON SEQUENCE … TO {grantee})")
    # pg_dump reads with row_security off: a table whose rows the role sees through policies fails it
    filtered = [r for r in dumped if r[2] == "r" and r[5] and not bypassrls and (r[6] or not r[7])]
    if filtered:
        forced = "FORCE ROW LEVEL SECURITY" if all(r[6] and r[7] for r in filtered) else "row-level security"
        tables = _names(quote_qualified(r[0], r[1]) for r in filtered)
        missing.append(f"BYPASSRLS: the backup (pg_dump) reads every row of {tables} under {forced} and fails "
                       f"with \"query would be affected by row-level security policy\" (a superuser runs "
                       f"ALTER ROLE {grantee} BYPASSRLS; or apply with --no-backup)")
    return missing, no_usage


def _dumped(relations: list[tuple], backup: str, tables: Iterable[tuple[str, str]]) -> list[tuple]:
    """The relations the backup dumps: all of them, or only the affected tables (pg_dump --table)."""
    if backup == "full":
        return relations
    if backup == "affected":
        wanted = set(tables)
        return [r for r in relations if (r[0], r[1]) in wanted]
    return []


def _names(names: Iterable[str]) -> str:
    items = list(names)
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
