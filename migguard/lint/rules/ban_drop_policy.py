"""
## What it does
Refuses `DROP POLICY` unless `--allow-destructive` is given, with or without `IF EXISTS`.

## Why it is dangerous
Policies decide which rows each tenant and role can see and change. Dropping the last permissive
policy of a table with row level security makes every row invisible to the application (an
outage that shows no error, only empty results); dropping a restrictive policy, or one of
several permissive ones, silently widens or narrows access. Either way the change takes effect
for every session the moment the migration commits.

## Bad
```sql
DROP POLICY tenant_isolation ON invoices;
```

## Good
```sql
-- Change the policy in place...
ALTER POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid);
-- ...or drop and re-create it in the same transaction.
DROP POLICY IF EXISTS invoices_read ON invoices;
CREATE POLICY invoices_read ON invoices FOR SELECT
    USING (tenant_id = current_setting('app.tenant_id')::uuid);
```

## When it does not fire
A policy re-created under the same name on the same table later in the same transaction (the
usual way to replace one): no other session ever sees the table without it; the tenancy rules
check the new definition. Dropping a policy of a table created earlier in the same migration is
reported as info. With `--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-droppolicy.html
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, normalise, quote_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.shapes import Policy

HINT = (
    "Change the policy in place with ALTER POLICY, or drop and re-create it in the same transaction; "
    "drop it for good only in a migration run with --allow-destructive."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        command = statement.command
        if not isinstance(command, Policy) or command.action != "drop":
            continue
        table = normalise(command.table)
        if _recreated_later(context, statement.index, command.name, table):
            continue
        yield Violation(
            statement,
            f"Dropping policy {quote_name(command.name)} on {table} changes which rows every session can see and change: "
            "without a permissive policy, row level security hides every row.",
            HINT,
            offset=locate.words(statement, "drop policy") or 0,
            new_object=context.is_new_table(table, statement.index),
        )


def _recreated_later(context: LintContext, index: int, name: str, table: str) -> bool:
    """Is a policy of that name created on `table` later in the same transaction?"""
    return any(isinstance(s.command, Policy) and s.command.action == "create" and s.command.name == name
               and normalise(s.command.table) == table for s in context.later_in_transaction(index))


RULE = Rule(
    id="ban-drop-policy",
    default_severity=Severity.ERROR,
    summary="DROP POLICY changes who can see a table's rows",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"DropStmt"}),
)
