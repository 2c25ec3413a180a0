"""
## What it does
Requires `ALTER TABLE … ENABLE ROW LEVEL SECURITY` in the same migration for every table the
migration creates with the tenant column (`tenant_column`, default `tenant_id`), gives the
tenant column with `ALTER TABLE … ADD COLUMN`, or creates as a partition of such a table.

## Why it is dangerous
Without row level security PostgreSQL ignores every policy on the table: any query the
application runs sees, updates and deletes the rows of every tenant, and a single missing
`WHERE tenant_id = …` in the application leaks data across tenants. A partition is a table of
its own: RLS enabled on the partitioned parent does not protect direct access to the partition.

## Bad
```sql
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    total numeric NOT NULL
);
```

## Good
```sql
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    total numeric NOT NULL
);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
```

## When it does not fire
Tables without the tenant column, temporary tables, and tables that already existed with the
tenant column (the catalog audit of `migguard plan` checks those). Enabling RLS again on a table
that already has it is harmless, so the rule also asks for it after `ADD COLUMN tenant_id`.

## References
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/ddl-partitioning.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp

from migguard.commands import AlterTable, CreateTable
from migguard.findings import Severity
from migguard.parse import Statement
from migguard.rules.base import Rule, Violation, at
from migguard.rules.context import LintContext, alter_table, column_defs, created_table, identifier, normalise, table_name

_TEMPORARY = re.compile(r"^\s*create\s+(global\s+|local\s+)?temp(orary)?\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TenantTable:
    """A table that has the tenant column because of this migration (shared by the tenancy rules)."""

    name: str
    statement: Statement  # the CREATE TABLE / ALTER TABLE … ADD COLUMN / CREATE TABLE … PARTITION OF
    how: str  # create | add_column | partition
    type_name: str | None = None  # the tenant column's type, when the statement names it
    parent: str | None = None  # for a partition: the tenant table it belongs to

    def offset(self, column: str) -> int:
        """Where the finding points: the ADD COLUMN clause, else the start of the statement."""
        if self.how == "add_column":
            return at(self.statement, rf"\badd\s+(column\s+)?(if\s+not\s+exists\s+)?\"?{re.escape(column)}\b")
        return 0


def tenant_tables(context: LintContext) -> dict[str, TenantTable]:
    """`context.tenant_tables` plus partitions of tenant tables and ADD COLUMNs only PostgreSQL's parser typed.

    Temporary tables are left out: they live for one session and no tenant reads them.
    """
    column = context.settings.tenant_column
    statements = {s.index: s for s in context.statements}
    found: dict[str, TenantTable] = {}
    for name, index in context.tenant_tables.items():
        statement = statements[index]
        if created_table(statement) and _TEMPORARY.match(statement.text):
            continue
        how = "create" if created_table(statement) else "add_column"
        found[name] = TenantTable(name, statement, how, _column_type(statement, column))
    for statement in context.parsed():
        name = created_table(statement)
        if name and name not in found and column in _query_columns(statement) and not _TEMPORARY.match(statement.text):
            found[name] = TenantTable(name, statement, "create")
        command = statement.command
        if isinstance(command, AlterTable) and command.object_kind == "table":
            for action in command.actions:
                if action.kind == "add_column" and action.name == column:
                    name = normalise(command.table)
                    if name not in found:
                        found[name] = TenantTable(name, statement, "add_column", action.type_name)
        parent = _partition_parent(statement)
        child = created_table(statement)
        if parent and child and parent in found and child not in found:
            found[child] = TenantTable(child, statement, "partition", found[parent].type_name, parent)
    return found


def _query_columns(statement: Statement) -> set[str]:
    """Columns of a CREATE TABLE … AS SELECT: its column list, else the names the query outputs."""
    tree = statement.ast
    query = tree.args.get("expression") if isinstance(tree, exp.Create) else None
    if not isinstance(query, exp.Query):
        return set()
    if isinstance(tree.this, exp.Schema) and tree.this.expressions:
        return {identifier(c.this if isinstance(c, exp.ColumnDef) else c) for c in tree.this.expressions}
    names = set()
    for select in query.selects:
        if isinstance(select, exp.Alias):
            names.add(identifier(select.args.get("alias")))
        elif isinstance(select, exp.Column):
            names.add(identifier(select.this))
    return names


def _partition_parent(statement: Statement) -> str | None:
    tree = statement.ast
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
        properties = tree.args.get("properties")
        for prop in properties.expressions if properties is not None else []:
            if isinstance(prop, exp.PartitionedOfProperty):
                return table_name(prop.this)
    if isinstance(statement.command, CreateTable) and statement.command.partition_of:
        return normalise(statement.command.partition_of)
    return None


def _column_type(statement: Statement, column: str) -> str | None:
    for definition in column_defs(statement):
        if identifier(definition.this) == column and definition.args.get("kind") is not None:
            return definition.args["kind"].sql("postgres").lower()
    if isinstance(statement.command, CreateTable):
        for info in statement.command.columns:
            if info.name == column:
                return info.type_name or None
    tree = alter_table(statement)
    for action in (tree.args.get("actions") or []) if tree is not None else []:
        if isinstance(action, exp.ColumnDef) and identifier(action.this) == column and action.args.get("kind"):
            return action.args["kind"].sql("postgres").lower()
    return None


def quote_name(name: str) -> str:
    """A policy or object name as it would be written in SQL: quoted unless it is a plain lower-case identifier."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def display(name: str) -> str:
    """A (schema-qualified) relation name for messages, quoted where SQL would need it."""
    return ".".join(quote_name(part) for part in name.split("."))


def describe(table: TenantTable, column: str) -> str:
    """How the table became a tenant table, for messages."""
    if table.how == "partition":
        return f"Partition {display(table.name)} of tenant table {display(table.parent or '')}"
    if table.how == "add_column":
        return f"Table {display(table.name)}, which this migration gives the tenant column {column},"
    return f"Tenant table {display(table.name)} (it has the tenant column {column})"


def check(context: LintContext) -> Iterator[Violation]:
    column = context.settings.tenant_column
    for table in tenant_tables(context).values():
        if "enable_row_security" in context.row_security.get(table.name, set()):
            continue
        harm = ("queries that name the partition directly skip the parent's policies and reach every tenant's rows"
                if table.how == "partition" else
                "PostgreSQL ignores its policies and every tenant can read and change every tenant's rows")
        name = display(table.name)
        yield Violation(
            table.statement,
            f"{describe(table, column)} does not get ENABLE ROW LEVEL SECURITY in this migration, so {harm}.",
            f"Add `ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;` and `ALTER TABLE {name} FORCE ROW "
            f"LEVEL SECURITY;` to this migration, with a policy filtering {column} by the tenant setting.",
            offset=table.offset(column),
        )


RULE = Rule(
    id="require-rls-enabled",
    default_severity=Severity.ERROR,
    summary="a table with the tenant column must get ENABLE ROW LEVEL SECURITY in the same migration",
    family="tenancy",
    doc=__doc__,
    check=check,
)
