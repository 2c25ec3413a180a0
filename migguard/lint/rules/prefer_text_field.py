"""
## What it does
Flags columns declared or retyped as `varchar(n)` / `character varying(n)` (and arrays of it) in
`CREATE TABLE`, `ALTER TABLE … ADD COLUMN` and `ALTER TABLE … ALTER COLUMN … TYPE`.

## Why it is dangerous
The length limit is part of the column's type, so changing it later is an
`ALTER COLUMN … TYPE`: raising it takes an ACCESS EXCLUSIVE lock, which blocks every read and
write of the table, and lowering it also rewrites the table. `varchar(n)` is not faster or
smaller than `text`. A `CHECK (char_length(col) <= n)` constraint enforces the same limit and can
be replaced without blocking traffic: add the new one `NOT VALID`, `VALIDATE` it, drop the old.

## Bad
```sql
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email varchar(255) NOT NULL
);
```

## Good
```sql
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL CONSTRAINT users_email_length CHECK (char_length(email) <= 255)
);
```

## When it does not fire
`varchar` without a length (it behaves as `text`), `text`, and `char(n)`; `varchar(n)` in casts,
function signatures, composite types and view queries (only table columns are checked).

## References
- https://www.postgresql.org/docs/current/datatype-character.html
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
- https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_varchar.28n.29_by_default
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext, quote_name
from migguard.lint.facts.columns import declared_columns
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    for column in declared_columns(context):
        if column.temporary or column.type is None or column.type.name != "varchar" or not column.type.params:
            continue
        limit = column.type.params[0]
        verb = "is changed to" if column.how == "alter" else "is"
        yield Violation(
            column.statement,
            f"Column {column.qualified} {verb} {column.type}: changing the limit later needs ALTER COLUMN … TYPE "
            f"and an {ACCESS_EXCLUSIVE.describe()}; lowering it also rewrites the table.",
            f"Declare it text with CHECK (char_length({quote_name(column.name)}) <= {limit}); that limit can later be "
            "replaced with ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT without blocking reads or writes.",
            offset=column.offset,
        )


RULE = Rule(
    id="prefer-text-field",
    default_severity=Severity.WARNING,
    summary="Use text with a CHECK constraint instead of varchar(n) columns",
    family="hygiene",
    doc=__doc__,
    check=check,
)
