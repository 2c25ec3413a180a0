"""
## What it does
Warns about `CREATE FUNCTION` or `CREATE PROCEDURE` with `SECURITY DEFINER`. The message says
when the body mentions a tenant table created in the same migration or the tenant column
(`tenant_column`, default `tenant_id`), and when the function does not pin `search_path`.

## Why it is dangerous
A `SECURITY DEFINER` function runs with the rights of its owner, usually the role that owns the
tables, which bypasses row level security: every tenant that can call it reads or changes what
the function touches across all tenants, unless the function filters by the tenant setting
itself. Without `SET search_path`, a caller who can create objects in a schema on its
search_path (for example `public`, or `pg_temp`) can shadow the tables, operators and functions
it uses and run their own code with the owner's rights.

## Bad
```sql
CREATE FUNCTION invoice_total(p_invoice bigint) RETURNS numeric
LANGUAGE sql SECURITY DEFINER
AS $$ SELECT total FROM invoices WHERE id = p_invoice $$;
```

## Good
```sql
CREATE FUNCTION invoice_total(p_invoice bigint) RETURNS numeric
LANGUAGE sql STABLE SECURITY INVOKER
AS $$ SELECT total FROM invoices WHERE id = p_invoice $$;
```

## When it does not fire
`SECURITY INVOKER` functions (the default), DO blocks, and functions made `SECURITY DEFINER`
later with `ALTER FUNCTION` (the catalog audit of `migguard plan` reports those). When a definer
function is really needed, keep it and silence the warning with a reasoned
`-- migguard:ignore ban-security-definer-function -- why`, after pinning
`SET search_path = pg_catalog, pg_temp`, filtering by the tenant setting inside, and revoking
`EXECUTE` from `PUBLIC`.

## References
- https://www.postgresql.org/docs/current/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator


from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.shapes import CodeBlock


def _mentions(body: str, word: str) -> bool:
    return bool(re.search(rf"(?<![\w$.]){re.escape(word)}(?![\w$])", body, re.IGNORECASE))


def check(context: LintContext) -> Iterator[Violation]:
    column = context.settings.tenant_column
    tenant = list(context.tenant_tables)
    for statement in context.parsed():
        block = statement.command
        if not isinstance(block, CodeBlock) or block.kind not in ("function", "procedure") or not block.security_definer:
            continue
        kind, name, body, sets_search_path = block.kind, block.name or "", block.body, block.sets_search_path
        message = (f"{kind.capitalize()} {display(name)} is SECURITY DEFINER: it runs with its owner's rights, which "
                   "bypass row level security on every table it reads or writes.")
        mentioned = [t for t in tenant if _mentions(body, t) or _mentions(body, t.rsplit(".", 1)[-1])]
        if mentioned:
            tables = ", ".join(map(display, mentioned))
            message += (f" Its body uses tenant table{'s' if len(mentioned) > 1 else ''} {tables}, so any "
                        "caller can reach every tenant's rows there.")
        elif _mentions(body, column):
            message += f" Its body uses the tenant column {column}, so it touches tenant data across all tenants."
        if not sets_search_path:
            message += (" It does not SET search_path, so a caller who can create objects in a schema on the "
                        "search_path can hijack the names it uses and run code as the owner.")
        hint = "Make it SECURITY INVOKER (the default) so RLS applies to the caller."
        if not sets_search_path:
            hint += (" If it must stay SECURITY DEFINER, add `SET search_path = pg_catalog, pg_temp` and schema-qualify"
                     " names,")
        else:
            hint += " If it must stay SECURITY DEFINER,"
        hint += " filter by the tenant setting inside it and REVOKE EXECUTE … FROM PUBLIC."
        yield Violation(statement, message, hint, offset=locate.words(statement, "security definer") or 0)


RULE = Rule(
    id="ban-security-definer-function",
    default_severity=Severity.WARNING,
    summary="a SECURITY DEFINER function runs as its owner and bypasses row level security",
    family="tenancy",
    doc=__doc__,
    check=check,
    kinds=frozenset({"CreateFunctionStmt"}),
)
