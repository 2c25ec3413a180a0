"""
## What it does
Flags `ALTER TABLE … ADD COLUMN … GENERATED ALWAYS AS (…) STORED` on a table that already exists.

## Why it is dangerous
A stored generated column is computed and written for every existing row when it is added, so
PostgreSQL rewrites the whole table, and all its indexes, while holding an ACCESS EXCLUSIVE
lock, which blocks every read and write of the table until the rewrite ends.

## Bad
```sql
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (quantity * unit_cents) STORED;
```

## Good
```sql
-- A plain nullable column is added instantly; fill it with a trigger for new rows
-- and a batched backfill for existing ones (or compute the value in a view).
ALTER TABLE orders ADD COLUMN total_cents bigint;
```

## When it does not fire
`VIRTUAL` generated columns (PostgreSQL 18+), which are computed on read and need no rewrite.
Identity columns are reported by ban-add-serial-column. A table created earlier in the same
migration is reported as info: it has no rows to rewrite.

## References
- https://www.postgresql.org/docs/current/ddl-generated-columns.html
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    for column in columns.added_columns(context):
        if column.generated != "stored":
            continue
        yield Violation(
            column.statement,
            f"Adding stored generated column {column.table}.{column.name} rewrites the whole table to compute it "
            f"for every row, holding an {ACCESS_EXCLUSIVE.describe()} until it ends.",
            _hint(context.settings.pg_version),
            offset=columns.add_column_offset(column.statement, column.name),
            new_object=context.is_new_table(column.table, column.statement.index),
        )


def _hint(pg_version: int) -> str:
    hint = ("Add a plain nullable column instead, fill it with a trigger for new rows and a batched backfill for "
            "existing ones, or compute the value in a view")
    if pg_version >= 18:
        return hint + "; or declare it VIRTUAL, which computes it on read without a rewrite."
    return hint + "."


RULE = Rule(
    id="ban-add-generated-column",
    default_severity=Severity.ERROR,
    summary="ADD COLUMN … GENERATED ALWAYS AS (…) STORED rewrites the table",
    family="locks",
    doc=__doc__,
    check=check,
)
