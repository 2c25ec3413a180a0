"""
## What it does
Requires, for every table the migration creates with the tenant column (`tenant_column`,
default `tenant_id`), gives the tenant column with `ADD COLUMN`, or creates as a partition of
such a table, at least one `CREATE POLICY` (or `ALTER POLICY`) in the same migration whose
`USING` expression compares the tenant column with `current_setting('<tenant_setting>')`
(default `app.tenant_id`), the setting the application sets for each request.

## Why it is dangerous
Row level security without such a policy does not isolate tenants. With no policy at all every
query of a non-owner sees no rows, and the usual "fix" is a policy that lets everything through;
a policy keyed on something else (the user, a role, a different setting) lets one tenant's
session read or change another tenant's rows.

## Bad
```sql
CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id uuid NOT NULL);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON invoices USING (created_by = current_user);
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
tenant column (the catalog audit of `migguard plan` checks those, including that every
command has a policy and that `WITH CHECK` is keyed on the tenant too). A policy that reads the
setting through a wrapper function (`tenant_id = app.current_tenant()`) does not count: the rule
cannot see inside the function; silence it with a reasoned `-- migguard:ignore` if the wrapper
reads the setting. `FOR INSERT` policies have no `USING` and do not count on their own.

## References
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
- https://www.postgresql.org/docs/current/sql-createpolicy.html
- https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SET
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display, identifier, quote_name
from migguard.lint.rule import Rule, Violation
from migguard.sql.lazy import exp
from migguard.sql.shapes import Policy


def keyed_on_tenant(expression: str | None, column: str, setting: str) -> bool:
    """Does a (PostgreSQL-deparsed) policy expression read both the tenant column and the tenant setting?"""
    if not expression:
        return False
    import sqlglot  # on first use (see migguard.sql.lazy)
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(expression, read="postgres")
    except (SqlglotError, RecursionError, ValueError):
        tree = None
    if tree is None:  # fall back to the text: identifiers, then the setting as a literal argument
        return bool(re.search(rf"(?<![\w$\"]){re.escape(column)}(?![\w$\"])", expression)) and bool(
            re.search(rf"current_setting\s*\(\s*'{re.escape(setting)}'", expression, re.IGNORECASE))
    reads_column = any(identifier(c) == column for c in tree.find_all(exp.Column))
    reads_setting = False
    for call in tree.find_all(exp.Func):
        name = call.name if isinstance(call, exp.Anonymous) else call.sql_name()
        arguments = call.expressions if isinstance(call, exp.Anonymous) else [call.this]
        if name.lower() == "current_setting" and arguments:
            first = arguments[0]
            reads_setting = reads_setting or (isinstance(first, exp.Literal) and first.is_string
                                              and first.this == setting)
    return reads_column and reads_setting


def example_policy(table: str, column: str, setting: str, type_name: str | None) -> str:
    cast = f"::{type_name}" if type_name and type_name not in ("text", "varchar", "character varying") else ""
    condition = f"{column} = current_setting('{setting}'){cast}"
    return f"CREATE POLICY tenant_isolation ON {table} USING ({condition}) WITH CHECK ({condition});"


def check(context: LintContext) -> Iterator[Violation]:
    column, setting = context.settings.tenant_column, context.settings.tenant_setting
    for table in context.tenant_tables.values():
        policies: list[Policy] = context.policies.get(table.name, [])
        if any(keyed_on_tenant(p.using, column, setting) for p in policies):
            continue
        if policies:
            names = ", ".join(dict.fromkeys(quote_name(p.name) for p in policies))
            message = (f"{table.describe(column)} has policies ({names}) in this migration, but none whose USING "
                       f"compares {column} with current_setting('{setting}'), so its rows are not isolated by tenant.")
        else:
            message = (f"{table.describe(column)} gets no policy in this migration, so nothing ties its rows to the "
                       f"tenant in current_setting('{setting}').")
        yield Violation(
            table.statement,
            message,
            f"Add `{example_policy(display(table.name), column, setting, table.type_name)}` to this migration.",
            offset=table.offset(column),
        )


RULE = Rule(
    id="require-tenant-policy",
    default_severity=Severity.ERROR,
    summary="a table with the tenant column needs a policy filtering it by the tenant setting",
    family="tenancy",
    doc=__doc__,
    check=check,
)
