"""
## What it does
Flags `serial`, `bigserial` and `smallserial` (`serial4`, `serial8`, `serial2`) columns in
`CREATE TABLE` and `ALTER TABLE … ADD COLUMN`.

## Why it is dangerous
`serial` is not a type but a shorthand: it creates a separate sequence and a
`DEFAULT nextval(…)`. That sequence has its own owner and privileges, so a role that may insert
into the table still fails without `USAGE` on the sequence; `CREATE TABLE … (LIKE …)` copies the
default and makes two tables share one sequence; and nothing stops a client from inserting its
own ids, which collide with the sequence later. Adding a serial column to an existing table also
fills every row, rewriting the table. An identity column is part of the table's own definition
and, with `GENERATED ALWAYS`, rejects hand-picked ids unless `OVERRIDING SYSTEM VALUE` says so.

## Bad
```sql
CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    total numeric NOT NULL
);
```

## Good
```sql
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total numeric NOT NULL
);
```

## When it does not fire
Columns that already use `GENERATED … AS IDENTITY`, and integer columns whose default calls
`nextval()` on a sequence created separately (that is a deliberate choice, not the shorthand).
`serial` and `smallserial` columns are also reported by prefer-bigint.

## References
- https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-SERIAL
- https://www.postgresql.org/docs/current/sql-createtable.html (GENERATED … AS IDENTITY)
- https://www.postgresql.org/docs/current/ddl-identity-columns.html
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.facts.columns import SERIAL_TYPES, declared_columns
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    for column in declared_columns(context):
        if column.temporary or column.how == "alter" or column.type is None or column.type.array \
                or column.type.name not in SERIAL_TYPES:
            continue
        yield Violation(
            column.statement,
            f"Column {column.qualified} is {column.type.name}, which creates a separate sequence with its own "
            "owner and grants, is shared by tables copied with LIKE, and does not stop clients from inserting "
            "ids that later collide with it.",
            "Declare it bigint GENERATED ALWAYS AS IDENTITY (BY DEFAULT AS IDENTITY if clients must be able to "
            "supply ids).",
            offset=column.offset,
        )


RULE = Rule(
    id="prefer-identity",
    default_severity=Severity.WARNING,
    summary="Use GENERATED AS IDENTITY instead of serial, bigserial and smallserial columns",
    family="hygiene",
    doc=__doc__,
    check=check,
)
