"""
## What it does
Refuses a `DELETE` without a `WHERE` clause, or with one that is constantly true
(`WHERE true`, `1 = 1`, `2 > 1`, `id = id`, `NOT false`, `true OR …`), unless
`--allow-destructive` is given. A `DELETE` inside a `WITH` clause, one a `DO` block runs (written
out, or as an `EXECUTE` string built from constants) and one a `PREPARE` defines are checked the
same way, where they run.

## Why it is dangerous
It removes every row of the table; the rows are gone the moment the transaction commits and only
a backup brings them back. A `WHERE` in a subquery or a `USING` join does not narrow a `DELETE`
whose own `WHERE` is missing. On a large table it also holds row locks on every row and writes
the whole table to the WAL in one transaction.

## Bad
```sql
DELETE FROM audit_events;
```

## Good
```sql
DELETE FROM audit_events WHERE created_at < now() - interval '1 year';
```

## When it does not fire
A `DELETE` with a meaningful `WHERE`: any condition on the row's values, however broad (migguard
does not guess how many rows `created_at < now()` reaches; it refuses only a filter that keeps
every row whatever the data). Deleting from a table created earlier in
the same migration is reported as info. With `--allow-destructive` the finding is a warning and
does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-delete.html
- https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.facts.dml import DML_KINDS, unbounded_writes
from migguard.lint.rule import Rule, Violation

HINT = (
    "Add a WHERE clause naming the rows to remove; if every row must go, say so with "
    "--allow-destructive and an ignore that gives the reason."
)


def check(context: LintContext) -> Iterator[Violation]:
    for write in unbounded_writes(context, "DeleteStmt"):
        message = f"This DELETE from {write.table} {write.why}, so it removes every row of the table."
        yield Violation(write.statement, message, HINT, offset=write.offset, new_object=write.new_table)


RULE = Rule(
    id="ban-delete-without-where",
    default_severity=Severity.ERROR,
    summary="DELETE without a WHERE clause removes every row of the table",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=DML_KINDS,  # the statements that can hold one, WITH clauses included
)
