"""
## What it does
In a migration that does not run in a transaction, flags statements that fail when the file is
run a second time: `CREATE TABLE` and `CREATE INDEX` without `IF NOT EXISTS`, `DROP …` without
`IF EXISTS`, and `ALTER TABLE … ADD COLUMN` without `IF NOT EXISTS` or `DROP COLUMN` /
`DROP CONSTRAINT` without `IF EXISTS`. migguard runs a file outside a transaction when it contains
`CONCURRENTLY`, or for every file when `assume_in_transaction = false`; statements inside the
file's own `BEGIN … COMMIT` are not checked.

## Why it is dangerous
Without a transaction nothing is undone when a statement fails: a `CREATE INDEX CONCURRENTLY`
that times out on its lock, or a deploy killed half-way, leaves the earlier statements applied.
The fix is to run the file again, and then the first `CREATE` that already succeeded fails with
"already exists", so the migration can only be finished by hand on the production database.

## Bad
```sql
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
```

## Good
```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON accounts (email);
```

## When it does not fire
In files migguard runs in a transaction (the default for files without `CONCURRENTLY`): a
failure rolls the whole file back, so a retry starts from a clean slate. Inside an explicit
`BEGIN … COMMIT` block, for the same reason. Temporary tables, which vanish with the session.

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
- https://www.postgresql.org/docs/current/sql-createtable.html
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, alter_table, identifier, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, CreateIndex, CreateTable, DropObjects, Policy


def check(context: LintContext) -> Iterator[Violation]:
    if context.wrapped_by_runner:
        return
    for statement in context.parsed():
        if context.explicit_transaction[statement.index]:
            continue
        tree, command = statement.ast, statement.command
        if tree is not None and isinstance(tree, exp.Create):
            yield from _create(statement, tree)
        elif tree is not None and isinstance(tree, exp.Drop) and not tree.args.get("exists"):
            kind = (tree.args.get("kind") or "").upper()
            kind = f"MATERIALIZED {kind}" if tree.args.get("materialized") else kind
            names = [table_name(t) for t in tree.args.get("tables") or []]
            yield _drop(statement, kind, names, bool(tree.args.get("concurrently")))
        elif alter_table(statement) is not None:
            yield from _alter(statement, alter_table(statement))
        elif isinstance(command, CreateTable) and not command.if_not_exists:
            yield _not_exists(statement, "CREATE TABLE", normalise(command.table))
        elif isinstance(command, CreateIndex) and not command.if_not_exists:
            yield _index(statement, command.name, command.concurrent)
        elif isinstance(command, DropObjects) and not command.missing_ok:
            yield _drop(statement, command.object_kind.upper(), list(command.names), command.concurrent)
        elif isinstance(command, Policy) and command.action == "drop" and not command.missing_ok:
            yield _drop(statement, "POLICY", [command.name], False, f" ON {_sql(normalise(command.table))}")
        elif isinstance(command, AlterTable) and command.object_kind == "table":
            for action in command.actions:
                if action.kind == "add_column" and not action.missing_ok:
                    yield _add_column(statement, normalise(command.table), action.name or "")
                elif action.kind in ("drop_column", "drop_constraint") and not action.missing_ok:
                    yield _alter_drop(statement, normalise(command.table), action.kind.removeprefix("drop_").upper(),
                                      action.name or "")


def _create(statement: Statement, tree: exp.Create) -> Iterator[Violation]:
    kind = (tree.args.get("kind") or "").upper()
    if tree.args.get("exists"):
        return
    if kind == "TABLE" and not _temporary(tree):
        yield _not_exists(statement, "CREATE TABLE", table_name(tree.this))
    elif kind == "INDEX" and isinstance(tree.this, exp.Index):
        name = identifier(tree.this.this) if tree.this.this is not None else None
        yield _index(statement, name, bool(tree.args.get("concurrently")))


def _alter(statement: Statement, tree: exp.Alter) -> Iterator[Violation]:
    table = table_name(tree.this)
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef) and not action.args.get("exists"):
            yield _add_column(statement, table, identifier(action.this))
        elif isinstance(action, exp.Drop) and not action.args.get("exists"):
            kind = (action.args.get("kind") or "").upper()
            if kind in ("COLUMN", "CONSTRAINT"):
                for target in action.args.get("tables") or []:
                    yield _alter_drop(statement, table, kind, identifier(target))


def _temporary(tree: exp.Create) -> bool:
    properties = tree.args.get("properties")
    return bool(properties) and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)


_WHY = "this file runs outside a transaction, so statements that succeeded before a failure stay applied"
_AGAIN = "so the file can run again after a failure"


def _sql(name: str) -> str:
    """A (dotted) name as SQL: parts that need quotes get them."""
    return ".".join(p if re.fullmatch(r"[a-z_][a-z0-9_$]*", p) else '"' + p.replace('"', '""') + '"'
                    for p in name.split("."))


def _not_exists(statement: Statement, what: str, name: str) -> Violation:
    return Violation(
        statement,
        f"{what} {name} without IF NOT EXISTS fails when the file is retried: {_WHY}.",
        f"Write {what} IF NOT EXISTS {_sql(name)} {_AGAIN}.",
        offset=locate.words(statement, "create") or 0,
    )


def _index(statement: Statement, name: str | None, concurrent: bool) -> Violation:
    create = "CREATE INDEX CONCURRENTLY" if concurrent else "CREATE INDEX"
    if name is None:
        return Violation(
            statement,
            f"{create} without a name builds a second, duplicate index when the file is retried: {_WHY}.",
            f"Name the index and write {create} IF NOT EXISTS name ….",
            offset=locate.words(statement, "create") or 0,
        )
    hint = f"Write {create} IF NOT EXISTS {_sql(name)} {_AGAIN}."
    if concurrent:
        hint = (f"Write {create} IF NOT EXISTS {_sql(name)}, preceded by DROP INDEX CONCURRENTLY IF EXISTS "
                f"{_sql(name)}: a failed concurrent build leaves an INVALID index that IF NOT EXISTS alone would keep.")
    return Violation(statement, f"{create} {name} without IF NOT EXISTS fails when the file is retried: {_WHY}.", hint,
                     offset=locate.words(statement, "create") or 0)


def _drop(statement: Statement, kind: str, names: list[str], concurrent: bool, suffix: str = "") -> Violation:
    drop = f"DROP {kind} CONCURRENTLY" if concurrent else f"DROP {kind}"
    return Violation(
        statement,
        f"{drop} {', '.join(names)} without IF EXISTS fails when the file is retried: {_WHY}.",
        f"Write {drop} IF EXISTS {', '.join(_sql(n) for n in names)}{suffix} {_AGAIN}.",
        offset=locate.words(statement, "drop") or 0,
    )


def _add_column(statement: Statement, table: str, column: str) -> Violation:
    return Violation(
        statement,
        f"Adding column {table}.{column} without IF NOT EXISTS fails when the file is retried: {_WHY}.",
        f"Write ADD COLUMN IF NOT EXISTS {_sql(column)} {_AGAIN}.",
        offset=locate.words(statement, "add column? {}", column) or 0,
    )


def _alter_drop(statement: Statement, table: str, kind: str, name: str) -> Violation:
    return Violation(
        statement,
        f"Dropping {kind.lower()} {name} of {table} without IF EXISTS fails when the file is retried: {_WHY}.",
        f"Write DROP {kind} IF EXISTS {_sql(name)} {_AGAIN}.",
        offset=locate.words(statement, f"drop {kind.lower()}? {{}}", name) or 0,
    )


RULE = Rule(
    id="prefer-robust-stmts",
    default_severity=Severity.WARNING,
    summary="Outside a transaction, use IF [NOT] EXISTS so a failed migration can be retried",
    family="hygiene",
    doc=__doc__,
    check=check,
    # What creates a table or an index, drops something, or alters a table: a SET at the top of the file is not
    # parsed with sqlglot only to find it is none of them.
    kinds=frozenset({"CreateStmt", "CreateTableAsStmt", "CreateForeignTableStmt", "IndexStmt", "DropStmt",
                     "DropdbStmt", "DropRoleStmt", "DropTableSpaceStmt", "DropOwnedStmt", "DropSubscriptionStmt",
                     "DropUserMappingStmt", "AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt"}),
)
