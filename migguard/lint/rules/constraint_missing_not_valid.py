"""
## What it does
Flags `ALTER TABLE … ADD [CONSTRAINT …] FOREIGN KEY` or `CHECK` without `NOT VALID` on a table that
already exists, and `ADD COLUMN` with a `CHECK` (or with `REFERENCES` and a `DEFAULT`), which
PostgreSQL validates at once.

## Why it is dangerous
PostgreSQL checks every existing row before the statement ends. A foreign key holds a SHARE ROW
EXCLUSIVE lock on both the table and the referenced table, which blocks every write of both while
it scans; a CHECK constraint holds an ACCESS EXCLUSIVE lock, which blocks every read and write of
the table, for the whole scan. With `NOT VALID` the constraint is added at once and enforced for
new rows; `VALIDATE CONSTRAINT` then checks the old rows under a SHARE UPDATE EXCLUSIVE lock,
which lets reads and writes go on.

## Bad
```sql
ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id);
```

## Good
```sql
ALTER TABLE orders ADD CONSTRAINT orders_account_fk
    FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
-- In a later migration (its own transaction):
-- ALTER TABLE orders VALIDATE CONSTRAINT orders_account_fk;
```

## When it does not fire
`NOT VALID` constraints; `ADD COLUMN … REFERENCES` without a `DEFAULT` (the new column is all NULL,
so PostgreSQL skips the check); UNIQUE, PRIMARY KEY and EXCLUDE constraints (see
require-unique-using-index). A table created earlier in the same migration is reported as info:
it has no rows to check.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE
from migguard.lint.context import LintContext
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation

HINT = ("Add it with NOT VALID (enforced for new rows at once), then run ALTER TABLE … VALIDATE CONSTRAINT in a "
        "separate migration, which checks the old rows without blocking reads or writes.")
COLUMN_HINT = ("Add the column without the constraint, then ADD CONSTRAINT … NOT VALID, and VALIDATE CONSTRAINT "
               "in a separate migration.")


def check(context: LintContext) -> Iterator[Violation]:
    for added in ddl.added_constraints(context):
        if added.kind not in ("foreign", "check") or added.not_valid:
            continue
        if added.column is not None and added.kind == "foreign" and not added.column_default:
            continue  # a new all-NULL column: PostgreSQL skips the foreign key check
        statement = added.statement
        kind = "foreign key" if added.kind == "foreign" else "check constraint"
        what = f"{kind} {added.name}" if added.name else f"a {kind}"
        if added.column is not None:
            lock = f"an {ACCESS_EXCLUSIVE.name} lock on {added.table}, which blocks every read and write of it"
            if added.references:
                lock += f", and a {SHARE_ROW_EXCLUSIVE.name} lock on {added.references}"
            message = (f"Adding column {added.table}.{added.column} with {what} checks every existing row at once "
                       f"(a column constraint cannot be NOT VALID), holding {lock}, until the check ends.")
        elif added.kind == "foreign":
            both = f"{added.table} and {added.references}" if added.references else added.table
            message = (f"Adding {what} to {added.table} without NOT VALID checks every existing row while holding a "
                       f"{SHARE_ROW_EXCLUSIVE.name} lock on {both}, which blocks every write of "
                       f"{'both' if added.references else 'it'}.")
        else:
            message = (f"Adding {what} to {added.table} without NOT VALID checks every existing row while holding an "
                       f"{ACCESS_EXCLUSIVE.name} lock on {added.table}, which blocks every read and write of it.")
        yield Violation(
            statement,
            message,
            COLUMN_HINT if added.column is not None else HINT,
            offset=added.offset,
            new_object=context.is_new_table(added.table, statement.index),
        )


RULE = Rule(
    id="constraint-missing-not-valid",
    default_severity=Severity.ERROR,
    summary="ADD CONSTRAINT FOREIGN KEY / CHECK without NOT VALID scans the table under a strong lock",
    family="locks",
    doc=__doc__,
    check=check,
)
