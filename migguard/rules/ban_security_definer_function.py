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

from pglast import parse_sql as pg_parse_sql
from pglast import parser as pg_parser
from sqlglot import exp

from migguard.commands import CodeBlock, recognise
from migguard.findings import Severity
from migguard.parse import Statement
from migguard.rules.base import Rule, Violation, at
from migguard.rules.context import LintContext
from migguard.rules.require_rls_enabled import display, tenant_tables


def _code_block(statement: Statement) -> CodeBlock | None:
    """The function or procedure a statement creates, as PostgreSQL's parse tree describes it."""
    if isinstance(statement.command, CodeBlock):
        return statement.command
    tree = statement.ast
    if not (isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() in ("FUNCTION", "PROCEDURE")):
        return None
    # sqlglot types some CREATE FUNCTIONs but misreads `SET search_path …` and the body after it (as an alias or
    # a Command): read this statement from PostgreSQL's grammar too, as parse.py does for the ones sqlglot rejects.
    try:
        nodes = pg_parse_sql(statement.text)
        block = recognise(nodes[0].stmt) if nodes else None
    except (pg_parser.ParseError, AttributeError, TypeError, ValueError, IndexError):
        return None
    return block if isinstance(block, CodeBlock) else None


def _mentions(body: str, word: str) -> bool:
    return bool(re.search(rf"(?<![\w$.]){re.escape(word)}(?![\w$])", body, re.IGNORECASE))


def check(context: LintContext) -> Iterator[Violation]:
    column = context.settings.tenant_column
    tenant = list(tenant_tables(context))
    for statement in context.parsed():
        block = _code_block(statement)
        if block is None or block.kind not in ("function", "procedure") or not block.security_definer:
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
        yield Violation(statement, message, hint, offset=at(statement, r"\bsecurity\s+definer\b"))


RULE = Rule(
    id="ban-security-definer-function",
    default_severity=Severity.WARNING,
    summary="a SECURITY DEFINER function runs as its owner and bypasses row level security",
    family="tenancy",
    doc=__doc__,
    check=check,
)
