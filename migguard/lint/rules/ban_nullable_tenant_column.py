"""
## What it does
Flags a tenant column (`tenant_column`, default `tenant_id`) declared without `NOT NULL` in
`CREATE TABLE` or `ALTER TABLE … ADD COLUMN`, and `ALTER TABLE … ALTER COLUMN tenant_id DROP NOT NULL`.

## Why it is dangerous
A row whose tenant is NULL belongs to nobody. `tenant_id = current_setting('app.tenant_id')::uuid`
is NULL for it, so no tenant can see or clean it up, and a policy or query "fixed" with
`tenant_id IS NULL OR …` or `COALESCE` hands it to every tenant. Application code that filters by
tenant, unique constraints that include the tenant column, and per-tenant exports and deletes all
silently skip such rows.

## Bad
```sql
CREATE TABLE invoices (
    id bigint PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id),
    total numeric NOT NULL
);
```

## Good
```sql
CREATE TABLE invoices (
    id bigint PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    total numeric NOT NULL
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
```

## When it does not fire
A tenant column that is part of the table's primary key (which implies `NOT NULL`), one made
`NOT NULL` later in the same migration with `ALTER COLUMN … SET NOT NULL`, columns of temporary
tables, and partitions (they take the column, with its `NOT NULL`, from the parent). A
`CHECK (tenant_id IS NOT NULL)` alone does not count: declare the column `NOT NULL` once the check
is validated.

## References
- https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-NOT-NULL
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import (
    LintContext, alter_table, column_defs, created_table, display, identifier, is_temporary, normalise, table_name,
)
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, CreateTable


def _not_null(definition: exp.ColumnDef) -> bool:
    for constraint in definition.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.PrimaryKeyColumnConstraint):
            return True
        if isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null"):
            return True
    return False


def _table_primary_key(statement: Statement) -> set[str]:
    tree = statement.ast
    if not (isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema)):
        return set()
    keys: set[str] = set()
    for element in tree.this.expressions:
        if isinstance(element, exp.PrimaryKey):
            keys.update(identifier(part) for part in element.expressions)
        elif isinstance(element, exp.Constraint):
            for key in element.find_all(exp.PrimaryKey):
                keys.update(identifier(part) for part in key.expressions)
    return keys


def _set_not_null_later(context: LintContext, table: str, column: str, after: int) -> bool:
    """Does this statement (a later action of it) or a later one of the file SET NOT NULL on table.column?"""
    for statement in context.parsed():
        if statement.index < after:
            continue
        tree = alter_table(statement)
        if tree is not None and table_name(tree.this) == table:
            for action in tree.args.get("actions") or []:
                if (isinstance(action, exp.AlterColumn) and identifier(action.this) == column
                        and action.args.get("allow_null") is False):
                    return True
        command = statement.command
        if isinstance(command, AlterTable) and normalise(command.table) == table:
            if any(a.kind == "set_not_null" and a.name == column for a in command.actions):
                return True
    return False


def _nullable_columns(statement: Statement, column: str) -> Iterator[tuple[str, str]]:
    """(table, how) for each nullable tenant column this statement declares or makes nullable."""
    name = created_table(statement)
    if name:
        if is_temporary(statement):
            return
        if isinstance(statement.command, CreateTable):
            info = next((c for c in statement.command.columns if c.name == column), None)
            if info is not None and not info.not_null and column not in statement.command.primary_key:
                yield name, "create"
            return
        definition = next((d for d in column_defs(statement) if identifier(d.this) == column), None)
        if definition is not None and not _not_null(definition) and column not in _table_primary_key(statement):
            yield name, "create"
        return
    tree = alter_table(statement)
    if tree is not None:
        table = table_name(tree.this)
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef) and identifier(action.this) == column and not _not_null(action):
                yield table, "add_column"
            elif (isinstance(action, exp.AlterColumn) and identifier(action.this) == column
                  and action.args.get("drop") and action.args.get("allow_null")):
                yield table, "drop_not_null"
        return
    command = statement.command
    if isinstance(command, AlterTable) and command.object_kind in ("table", "foreign table"):
        for action in command.actions:
            if action.kind == "add_column" and action.name == column and action.column and not action.column.not_null:
                yield normalise(command.table), "add_column"
            elif action.kind == "drop_not_null" and action.name == column:
                yield normalise(command.table), "drop_not_null"


def check(context: LintContext) -> Iterator[Violation]:
    column = context.settings.tenant_column
    for statement in context.parsed():
        for table, how in _nullable_columns(statement, column):
            if how == "drop_not_null":
                yield Violation(
                    statement,
                    f"Dropping NOT NULL from tenant column {display(table)}.{column} allows rows that belong to no tenant: "
                    "no tenant's policy matches them and every tenant filter skips them.",
                    f"Keep {column} NOT NULL; give rows without a tenant a real owner (for example a system tenant).",
                    offset=locate.words(statement, "alter column? {}", column) or 0,
                )
                continue
            if _set_not_null_later(context, table, column, statement.index):
                continue
            where = "is declared" if how == "create" else "is added"
            hint = (f"Declare it `{column} … NOT NULL`." if how == "create" else
                    f"Add it with NOT NULL, or backfill it and run `ALTER TABLE {display(table)} ALTER COLUMN {column} SET "
                    "NOT NULL` in this migration.")
            yield Violation(
                statement,
                f"Tenant column {display(table)}.{column} {where} without NOT NULL: rows with a NULL tenant belong to no "
                "tenant, match no tenant's policy and escape every tenant filter.",
                hint,
                offset=locate.words(statement, "{}", column) or 0,
            )


RULE = Rule(
    id="ban-nullable-tenant-column",
    default_severity=Severity.ERROR,
    summary="the tenant column must be NOT NULL",
    family="tenancy",
    doc=__doc__,
    check=check,
    kinds=frozenset({"CreateStmt", "CreateTableAsStmt", "CreateForeignTableStmt", "AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt"}),
)
