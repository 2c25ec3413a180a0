"""
## What it does
Flags `ALTER TABLE … ADD [CONSTRAINT …] UNIQUE (…)` or `PRIMARY KEY (…)`, and `ADD COLUMN … UNIQUE` /
`PRIMARY KEY`, on a table that already exists, when the constraint does not adopt an existing index
with `USING INDEX`.

## Why it is dangerous
PostgreSQL builds the constraint's unique index inside the `ALTER TABLE`, while holding an ACCESS
EXCLUSIVE lock, which blocks every read and write of the table until the whole index is built:
minutes on a large table. Built beforehand with `CREATE UNIQUE INDEX CONCURRENTLY`, the index can
be attached as the constraint with `USING INDEX`, which only updates the catalog.

## Bad
```sql
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
```

## Good
```sql
-- Migration 1 (CONCURRENTLY: migguard runs it outside a transaction):
CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);
-- Migration 2:
-- ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_key;
```

## When it does not fire
`… UNIQUE USING INDEX` / `… PRIMARY KEY USING INDEX`. A table created earlier in the same
migration is reported as info: its index is built on no rows. EXCLUDE constraints cannot adopt an
index and are not flagged here. A primary key also needs its columns NOT NULL: PostgreSQL scans
the table for that unless they already are (see require-check-for-set-not-null).

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation

HINT = ("Build the index first with CREATE UNIQUE INDEX CONCURRENTLY (in its own migration), then "
        "ADD CONSTRAINT … UNIQUE USING INDEX (or PRIMARY KEY USING INDEX), which only updates the catalog.")
COLUMN_HINT = ("Add the column without the constraint, build the index with CREATE UNIQUE INDEX CONCURRENTLY, then "
               "ADD CONSTRAINT … UNIQUE USING INDEX (or PRIMARY KEY USING INDEX).")


def check(context: LintContext) -> Iterator[Violation]:
    for added in ddl.added_constraints(context):
        if added.kind not in ("unique", "primary") or added.index:
            continue
        statement = added.statement
        what = "a primary key" if added.kind == "primary" else "a unique constraint"
        if added.name:
            what = f"{'primary key' if added.kind == 'primary' else 'unique constraint'} {added.name}"
        subject = f"column {added.table}.{added.column} with {what}" if added.column else f"{what} to {added.table}"
        yield Violation(
            statement,
            f"Adding {subject} builds its unique index while holding an {ACCESS_EXCLUSIVE.describe()}, "
            f"until the index is built.",
            COLUMN_HINT if added.column else HINT,
            offset=added.offset,
            new_object=context.is_new_table(added.table, statement.index),
        )


RULE = Rule(
    id="require-unique-using-index",
    default_severity=Severity.ERROR,
    summary="ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under an ACCESS EXCLUSIVE lock",
    family="locks",
    doc=__doc__,
    check=check,
)
