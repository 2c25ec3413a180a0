"""
## What it does
Flags `ALTER TABLE … ADD COLUMN … NOT NULL` (or `PRIMARY KEY`, which implies NOT NULL) without a
`DEFAULT`, on a table that already exists.

## Why it is dangerous
PostgreSQL gives the new column NULL in every existing row, so the statement fails with
"column … contains null values" as soon as the table has a single row. It passes on the empty
tables of development and CI, and breaks in production, after it has queued behind an
ACCESS EXCLUSIVE lock, which blocks every read and write of the table.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN plan text NOT NULL;
```

## Good
```sql
-- A constant default is stored in the catalog: no rewrite on PostgreSQL 11+.
ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';
```

## When it does not fire
The column has a non-NULL `DEFAULT` (`DEFAULT NULL` does not count). Identity, serial and
generated columns get values (ban-add-serial-column and ban-add-generated-column report their
rewrite). A table created earlier in the same migration is reported as info: it has no rows yet.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/ddl-alter.html#DDL-ALTER-ADDING-A-COLUMN
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    for column in columns.added_columns(context):
        if not column.not_null or column.has_default or column.identity or column.generated or column.serial:
            continue
        yield Violation(
            column.statement,
            f"Adding column {column.table}.{column.name} as NOT NULL without a DEFAULT fails as soon as "
            f"{column.table} has a row, because every existing row would hold NULL.",
            _hint(context.settings.pg_version),
            offset=columns.add_column_offset(column.statement, column.name),
            new_object=context.is_new_table(column.table, column.statement.index),
        )


def _hint(pg_version: int) -> str:
    if pg_version >= 11:
        return ("Give it a constant DEFAULT (stored without a rewrite since PostgreSQL 11), or add it nullable, "
                "backfill it in batches, then add CHECK (… IS NOT NULL) NOT VALID, VALIDATE it and SET NOT NULL.")
    return (f"Add it nullable, backfill it in batches, then add a CHECK (… IS NOT NULL) NOT VALID constraint and "
            f"VALIDATE it; on PostgreSQL {pg_version} a DEFAULT would rewrite the whole table.")


RULE = Rule(
    id="adding-not-null-column",
    default_severity=Severity.ERROR,
    summary="ADD COLUMN … NOT NULL without a DEFAULT fails on a table that has rows",
    family="locks",
    doc=__doc__,
    check=check,
)
