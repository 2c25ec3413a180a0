"""
## What it does
Refuses `CREATE RULE` whose actions write (`INSERT`, `UPDATE`, `DELETE`), unless
`--allow-destructive` is given.

## Why it is dangerous
A rewrite rule adds its actions to every matching statement on the table, or replaces the
statement with them (`DO INSTEAD`), from the moment the migration commits: `ON INSERT TO orders
DO ALSO DELETE FROM carts` deletes rows on every insert, by every client, and no statement of the
application shows it. `DO INSTEAD` silently drops the writes clients believe they made. Nothing is
destroyed while the migration runs, so neither the schema diff nor the statement rules see it.

## Bad
```sql
CREATE RULE orders_clear_cart AS ON INSERT TO orders DO ALSO DELETE FROM carts;
```

## Good
```sql
-- A read-only rule, or an explicit trigger function that review can read:
CREATE RULE orders_no_delete AS ON DELETE TO orders DO INSTEAD NOTHING;
```

## When it does not fire
A rule whose actions only read (`SELECT`), notify, or do nothing (`DO INSTEAD NOTHING`). With
`--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-createrule.html
- https://www.postgresql.org/docs/current/rules-update.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display, quote_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.shapes import CreateRule

HINT = (
    "Write the extra work as an explicit trigger (or in the application) where review reads it; if the rule must "
    "stay, apply it with --allow-destructive and an ignore that gives the reason."
)
_WRITES = ("insert", "update", "delete")


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        rule = statement.command
        if not isinstance(rule, CreateRule):
            continue
        writes = [(kind, sql) for kind, sql in zip(rule.action_kinds, rule.actions, strict=True) if kind in _WRITES]
        if not writes:
            continue
        shown = "; ".join(" ".join(sql.split()) for _, sql in writes)
        shown = shown if len(shown) <= 100 else shown[:99] + "…"
        how = "instead of" if rule.instead else "on top of"
        yield Violation(statement, f"Rule {quote_name(rule.name)} runs `{shown}` {how} every {rule.event.upper()} on "
                                   f"{display(rule.table)}: a write that no statement of the application shows.",
                        HINT, offset=locate.words(statement, "do") or 0)


RULE = Rule(
    id="ban-rule-with-dml",
    default_severity=Severity.ERROR,
    summary="CREATE RULE with INSERT/UPDATE/DELETE actions hides writes behind every matching statement",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"RuleStmt"}),
)
