"""Data pre-checks on production, read-only: will the pending change fail, or destroy rows?

Each check derives from a planned change (the diff of the clone before and after the pending
migrations) and runs in a READ ONLY transaction under a short statement_timeout. When a full
count times out on a large table, the check is repeated on a 1% TABLESAMPLE and says so.
Only counts and the offending rows' key values are reported, never other column values.

The counts must see every row: they run with row_security off, so a table whose rows the
connecting role sees only through row-level security (no BYPASSRLS; FORCE ROW LEVEL SECURITY on
a table it owns) is refused by PostgreSQL instead of counted partially, or of failing inside a
policy on an unset tenant setting. Such a check, or one on a table the role may not read, is
reported as not run (`skipped`, the reason), never as a clean result or a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

from migguard.core.identifiers import object_key, parse_qualified
from migguard.pg.connect import describe
from migguard.schema.diff import Change
from migguard.schema.model import SchemaModel, Table

SAMPLE_PERCENT = 1
MAX_KEYS = 5


@dataclass(frozen=True, slots=True)
class PrecheckResult:
    check: str  # not-null | unique | foreign-key | check | narrowing | destroyed-rows
    object: str
    offending: int  # rows (or groups, for duplicates) that make the change fail or that it destroys
    sample_keys: tuple[str, ...] = ()
    sampled: bool = False  # counted on a TABLESAMPLE after the full count timed out
    fails_migration: bool = True
    detail: str = ""
    skipped: str = ""  # why the check did not run (the role may not read every row); offending is then 0


def _referenced(references: str) -> tuple[str, str] | None:
    """(schema, table) of a foreign key's target as the catalog prints it (`regclass::text` under
    search_path pg_catalog: always qualified, quoted where needed)."""
    try:
        schema, name = parse_qualified(references, 2)
    except ValueError:
        return None
    return schema, name


def _key_columns(table: Table | None) -> list[str]:
    if table is None:
        return []
    for constraint in table.constraints.values():
        if constraint.kind == "primary":
            return list(constraint.columns)
    return []


_CHECK = re.compile(r"^CHECK \((.*)\)( NOT VALID)?$", re.DOTALL)
_VARCHAR = re.compile(r"^(?:character varying|character|varchar|char)\((\d+)\)$")


def plan_checks(changes: list[Change], before: SchemaModel, after: SchemaModel) -> list[tuple[str, str, sql.Composable, Table | None]]:
    """(check kind, object, query that counts the offending rows, table) for each risky change."""
    checks = []
    for change in changes:
        # (schema, table[, member]) from the change's path, never split from its dotted name
        if len(change.path) not in (2, 3):
            continue
        table_key, member = object_key(*change.path[:2]), change.path[2] if len(change.path) == 3 else ""
        if change.kind == "create index":  # an index's path is (schema, index): find its table
            table_key = next((key for key, table in after.tables.items() if table.schema_name == change.path[0]
                              and change.path[1] in table.indexes), "")
            member = change.path[1]
        old_table = before.tables.get(table_key)
        new_table = after.tables.get(table_key)
        if change.kind == "drop table":
            checks.append(("destroyed-rows", change.object,
                           sql.SQL("SELECT * FROM {} t").format(sql.Identifier(*change.path)), old_table))
            continue
        if old_table is None or not member:
            continue  # a table created by this migration has no rows in production
        target = sql.Identifier(old_table.schema_name, old_table.name)
        column = sql.Identifier(member)
        if change.kind == "drop column":
            checks.append(("destroyed-rows", change.object,
                           sql.SQL("SELECT * FROM {} t WHERE t.{} IS NOT NULL").format(target, column), old_table))
        elif change.kind == "set not null":
            checks.append(("not-null", change.object,
                           sql.SQL("SELECT * FROM {} t WHERE t.{} IS NULL").format(target, column), old_table))
        elif change.kind == "add column" and new_table is not None:
            added = new_table.columns.get(member)
            if added and not added.nullable and added.default is None and not added.identity and not added.generated:
                checks.append(("not-null", change.object, sql.SQL("SELECT * FROM {} t").format(target), old_table))
        elif change.kind == "alter column type" and new_table is not None:
            match = _VARCHAR.match(new_table.columns[member].type) if member in new_table.columns else None
            if match:
                checks.append(("narrowing", change.object, sql.SQL("SELECT * FROM {} t WHERE char_length(t.{}::text) > {}").format(
                    target, column, sql.Literal(int(match.group(1)))), old_table))
        elif change.kind == "add constraint" and new_table is not None and member in new_table.constraints:
            constraint = new_table.constraints[member]
            if "NOT VALID" in constraint.definition:
                continue  # not checked against existing rows
            columns = sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(c) for c in constraint.columns)
            if constraint.kind in ("unique", "primary") and constraint.columns:
                nonnull = sql.SQL(" AND ").join(sql.SQL("t.") + sql.Identifier(c) + sql.SQL(" IS NOT NULL")
                                               for c in constraint.columns)
                checks.append(("unique", change.object, sql.SQL(
                    "SELECT {cols} FROM {t} t WHERE {nonnull} GROUP BY {cols} HAVING count(*) > 1").format(
                    cols=columns, t=target, nonnull=nonnull), None))
            elif constraint.kind == "foreign" and constraint.references and constraint.columns:
                target_path = _referenced(constraint.references)
                referenced = after.tables.get(object_key(*target_path)) if target_path else None
                ref_columns = _referenced_columns(constraint.definition)
                if referenced is not None and len(ref_columns) == len(constraint.columns):
                    join = sql.SQL(" AND ").join(
                        sql.SQL("r.") + sql.Identifier(r) + sql.SQL(" = t.") + sql.Identifier(c)
                        for c, r in zip(constraint.columns, ref_columns))
                    nonnull = sql.SQL(" AND ").join(sql.SQL("t.") + sql.Identifier(c) + sql.SQL(" IS NOT NULL")
                                                   for c in constraint.columns)
                    checks.append(("foreign-key", change.object, sql.SQL(
                        "SELECT * FROM {t} t WHERE {nonnull} AND NOT EXISTS (SELECT 1 FROM {r} r WHERE {join})").format(
                        t=target, nonnull=nonnull, r=sql.Identifier(*target_path), join=join), old_table))
            elif constraint.kind == "check":
                match = _CHECK.match(constraint.definition)
                if match:
                    checks.append(("check", change.object, sql.SQL("SELECT * FROM {} t WHERE NOT ({})").format(
                        target, sql.SQL(match.group(1))), old_table))
        elif change.kind == "create index" and new_table is not None:
            index = new_table.indexes.get(change.path[1])
            if index is not None and index.unique and all(c.isidentifier() for c in index.columns):
                columns = sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(c) for c in index.columns)
                where = sql.SQL(f" WHERE {index.predicate}") if index.predicate else sql.SQL("")
                checks.append(("unique", change.object, sql.SQL(
                    "SELECT {cols} FROM {t} t{where} GROUP BY {cols} HAVING count(*) > 1").format(
                    cols=columns, t=target, where=where), None))
    return checks


def _referenced_columns(definition: str) -> list[str]:
    match = re.search(r"REFERENCES [^(]+\(([^)]*)\)", definition)
    return [c.strip().strip('"') for c in match.group(1).split(",")] if match else []


def run_prechecks(conn: psycopg.Connection, changes: list[Change], before: SchemaModel, after: SchemaModel,
                  timeout: str = "5s") -> list[PrecheckResult]:
    """Run every check derived from `changes` on `conn` (production), read-only."""
    results = []
    for kind, obj, query, table in plan_checks(changes, before, after):
        keys = _key_columns(table)
        try:
            count, sample, sampled = _count(conn, query, keys, timeout)
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedObject) as error:
            results.append(PrecheckResult(kind, obj, 0, fails_migration=False, skipped=describe(error)))
            continue
        if count:
            results.append(PrecheckResult(kind, obj, count, sample, sampled,
                                          fails_migration=kind != "destroyed-rows"))
    return results


def _count(conn: psycopg.Connection, query: sql.Composable, keys: list[str],
           timeout: str) -> tuple[int, tuple[str, ...], bool]:
    for sampled in (False, True):
        source = query
        if sampled:  # the same question on a sample of the first table's pages
            text = query.as_string(conn)
            source = sql.SQL(re.sub(r"(FROM \S+ t)\b", rf"\1 TABLESAMPLE SYSTEM ({SAMPLE_PERCENT})", text, count=1))
        key_list = (sql.SQL(", ").join(sql.SQL("q.") + sql.Identifier(k) for k in keys) if keys else None)
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute("SET LOCAL row_security = off")  # every row, or an error: never a filtered count
                conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout)))
                count = conn.execute(sql.SQL("SELECT count(*) FROM ({}) q").format(source)).fetchone()[0]
                sample: tuple[str, ...] = ()
                if count and key_list is not None:
                    rows = conn.execute(sql.SQL("SELECT {} FROM ({}) q LIMIT {}").format(
                        key_list, source, sql.Literal(MAX_KEYS))).fetchall()
                    sample = tuple(", ".join(str(v) for v in row) for row in rows)
                return int(count), sample, sampled
        except psycopg.errors.QueryCanceled:
            continue
    return 0, (), True
