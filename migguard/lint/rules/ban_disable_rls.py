"""
## What it does
Refuses `ALTER TABLE … DISABLE ROW LEVEL SECURITY` and `ALTER TABLE … NO FORCE ROW LEVEL
SECURITY` unless `--allow-destructive` is given.

## Why it is dangerous
Row level security is what keeps one tenant's rows away from another's. `DISABLE` switches every
policy of the table off at once: every query sees and changes every row, across all tenants.
`NO FORCE` exempts the table owner from the policies, and applications very often connect as the
owner, so for them it is the same as `DISABLE`. The leak starts the moment the migration commits
and shows no error anywhere.

## Bad
```sql
ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;
```

## Good
```sql
-- Change what the policy allows instead of switching row level security off:
ALTER POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid);
```

## When it does not fire
When the same migration turns row level security back on for the table later (`ENABLE` after a
`DISABLE`, `FORCE` after a `NO FORCE`) in the same transaction, as around a backfill: no other
session ever sees the table without it. With `--allow-destructive` the finding is a warning and
does not fail the gate.

## References
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, normalise
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.shapes import AlterTable

HINT = (
    "Keep row level security enabled and forced; change what a policy allows with ALTER POLICY, or run "
    "maintenance as a role with BYPASSRLS instead."
)

# The toggle that switches it off → the toggle that switches it back on.
_RESTORED_BY = {"disable_row_security": "enable_row_security", "no_force_row_security": "force_row_security"}
_MESSAGES = {
    "disable_row_security": (
        "Disabling row level security on {table} switches all of its policies off: every query sees and "
        "changes every row, across tenants."
    ),
    "no_force_row_security": (
        "NO FORCE ROW LEVEL SECURITY on {table} exempts the table owner from its policies, so an "
        "application connected as the owner sees and changes every tenant's rows."
    ),
}


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        command = statement.command
        if not isinstance(command, AlterTable) or command.object_kind != "table":
            continue
        table = normalise(command.table)
        for action in command.actions:
            if action.kind not in _RESTORED_BY:
                continue
            if _restored_later(context, statement.index, table, _RESTORED_BY[action.kind]):
                continue
            words = "disable row" if action.kind == "disable_row_security" else "no force"
            yield Violation(statement, _MESSAGES[action.kind].format(table=table), HINT,
                            offset=locate.words(statement, words) or 0)


def _restored_later(context: LintContext, index: int, table: str, toggle: str) -> bool:
    """Does a later statement of the same transaction switch `toggle` back on for `table`?"""
    return any(isinstance(s.command, AlterTable) and normalise(s.command.table) == table
               and any(action.kind == toggle for action in s.command.actions)
               for s in context.later_in_transaction(index))


RULE = Rule(
    id="ban-disable-rls",
    default_severity=Severity.ERROR,
    summary="DISABLE or NO FORCE ROW LEVEL SECURITY exposes every tenant's rows",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"AlterTableStmt"}),
)
