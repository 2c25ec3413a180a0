"""
## What it does
Flags `ALTER TABLE … ADD COLUMN` of type `serial`, `bigserial` or `smallserial`, or with
`GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`, on a table that already exists.

## Why it is dangerous
Every existing row needs its own value from the sequence, which is volatile, so PostgreSQL
rewrites the whole table, and all its indexes, while holding an ACCESS EXCLUSIVE lock, which
blocks every read and write of the table until the rewrite ends.

## Bad
```sql
ALTER TABLE events ADD COLUMN seq bigserial;
```

## Good
```sql
-- Add a plain column and attach a sequence as its default: neither rewrites the table.
-- Backfill existing rows in batches afterwards.
CREATE SEQUENCE events_seq_seq;
ALTER TABLE events ADD COLUMN seq bigint;
ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq_seq');
```

## When it does not fire
`ALTER COLUMN … ADD GENERATED AS IDENTITY` on an existing column, and `ALTER COLUMN … SET DEFAULT
nextval(…)`, which do not rewrite. A table created earlier in the same migration is reported as
info: it has no rows to rewrite.

## References
- https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-SERIAL
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation

HINT = ("Add a plain nullable bigint column, create a sequence and attach it with ALTER COLUMN … SET DEFAULT "
        "nextval(…) (no rewrite), then backfill existing rows in batches.")


def check(context: LintContext) -> Iterator[Violation]:
    for column in columns.added_columns(context):
        if column.serial:
            what = f"{column.type} column"
        elif column.identity:
            what = "identity column"
        else:
            continue
        yield Violation(
            column.statement,
            f"Adding {what} {column.table}.{column.name} rewrites the whole table to give every existing row a "
            f"sequence value, holding an {ACCESS_EXCLUSIVE.describe()} until it ends.",
            HINT,
            offset=columns.add_column_offset(column.statement, column.name),
            new_object=context.is_new_table(column.table, column.statement.index),
        )


RULE = Rule(
    id="ban-add-serial-column",
    default_severity=Severity.ERROR,
    summary="ADD COLUMN of a serial or identity column rewrites the table",
    family="locks",
    doc=__doc__,
    check=check,
)
