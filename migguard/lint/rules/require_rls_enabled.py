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

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    column = context.settings.tenant_column
    for table in context.tenant_tables.values():
        if "enable_row_security" in context.row_security.get(table.name, set()):
            continue
        harm = ("queries that name the partition directly skip the parent's policies and reach every tenant's rows"
                if table.how == "partition" else
                "PostgreSQL ignores its policies and every tenant can read and change every tenant's rows")
        name = display(table.name)
        yield Violation(
            table.statement,
            f"{table.describe(column)} does not get ENABLE ROW LEVEL SECURITY in this migration, so {harm}.",
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
