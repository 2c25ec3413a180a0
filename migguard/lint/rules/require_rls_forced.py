"""
## What it does
Requires `ALTER TABLE … FORCE ROW LEVEL SECURITY` in the same migration for every table the
migration creates with the tenant column (`tenant_column`, default `tenant_id`), gives the
tenant column with `ALTER TABLE … ADD COLUMN`, or creates as a partition of such a table.

## Why it is dangerous
`ENABLE ROW LEVEL SECURITY` alone does not apply to the table's owner: the owner bypasses every
policy. Migrations, and often the application itself, connect as the role that owns the tables,
so without `FORCE` the tenant policies silently filter nothing for exactly the role that runs
most queries.

## Bad
```sql
CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id uuid NOT NULL);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
```

## Good
```sql
CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id uuid NOT NULL);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
```

## When it does not fire
Tables without the tenant column, temporary tables, and tables that already existed with the
tenant column (the catalog audit of `migguard plan` checks those). Superusers and roles with
`BYPASSRLS` bypass RLS even when it is forced; the catalog audit reports application roles
that have either.

## References
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    column = context.settings.tenant_column
    for table in context.tenant_tables.values():
        if "force_row_security" in context.row_security.get(table.name, set()):
            continue
        yield Violation(
            table.statement,
            f"{table.describe(column)} does not get FORCE ROW LEVEL SECURITY in this migration, so the "
            "table's owner (the role migrations and often the application run as) bypasses every policy on it.",
            f"Add `ALTER TABLE {display(table.name)} FORCE ROW LEVEL SECURITY;` to this migration, next to ENABLE ROW LEVEL "
            "SECURITY.",
            offset=table.offset(column),
        )


RULE = Rule(
    id="require-rls-forced",
    default_severity=Severity.ERROR,
    summary="a table with the tenant column must get FORCE ROW LEVEL SECURITY in the same migration",
    family="tenancy",
    doc=__doc__,
    check=check,
)
