"""
## What it does
Refuses an `UPDATE` without a `WHERE` clause, or with one that is constantly true
(`WHERE true`, `1 = 1`, `2 > 1`, `id = id`, `NOT false`, `true OR …`), unless
`--allow-destructive` is given. An `UPDATE` inside a `WITH` clause, one a `DO` block runs (written
out, or as an `EXECUTE` string built from constants) and one a `PREPARE` defines are checked the
same way, where they run.

## Why it is dangerous
It overwrites the column in every row of the table, and the old values are gone the moment the
transaction commits; only a backup brings them back. A `WHERE` in a subquery or a `FROM` join does
not narrow an `UPDATE` whose own `WHERE` is missing. On a large table it also locks every row,
blocking concurrent writers until the migration commits, and writes a new version of every row
(table bloat, WAL volume, replication lag).

## Bad
```sql
UPDATE accounts SET plan = 'free';
```

## Good
```sql
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
```

## When it does not fire
An `UPDATE` with a meaningful `WHERE`: any condition on the row's values, however broad (migguard
does not guess how many rows `plan IS NULL` reaches; it refuses only a filter that keeps every row
whatever the data). Updating a table created earlier in the
same migration is reported as info. With `--allow-destructive` the finding is a warning and does
not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-update.html
- https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.facts.dml import DML_KINDS, unbounded_writes
from migguard.lint.rule import Rule, Violation

HINT = (
    "Add a WHERE clause naming the rows to change (for a backfill, `WHERE col IS NULL` in batches); if "
    "every row must change, say so with --allow-destructive and an ignore that gives the reason."
)


def check(context: LintContext) -> Iterator[Violation]:
    for write in unbounded_writes(context, "UpdateStmt"):
        message = f"This UPDATE of {write.table} {write.why}, so it overwrites every row of the table."
        yield Violation(write.statement, message, HINT, offset=write.offset, new_object=write.new_table)


RULE = Rule(
    id="ban-update-without-where",
    default_severity=Severity.ERROR,
    summary="UPDATE without a WHERE clause overwrites every row of the table",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=DML_KINDS,  # the statements that can hold one, WITH clauses included
)
