"""
## What it does
Flags a column declared `json` (or `json[]`) in `CREATE TABLE`, `ALTER TABLE … ADD COLUMN` or
`ALTER COLUMN … TYPE json`.

## Why it is dangerous
`json` stores the input text verbatim: every access re-parses it, duplicate keys and key order
are kept, it has no equality operator (so `DISTINCT`, `GROUP BY`, `UNION` and unique
constraints on it fail), and it cannot be indexed with GIN or queried with the containment
operators (`@>`, `?`). Code written against one type breaks on the other.

## Bad
```sql
CREATE TABLE events (id bigint PRIMARY KEY, payload json NOT NULL);
```

## Good
```sql
CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
```

## When it does not fire
`jsonb` columns, and `json` used in expressions, casts, function signatures or views. Keep
`json` only when the exact input text (whitespace, key order, duplicate keys) must be preserved,
and silence the finding with a reason.

## References
- https://www.postgresql.org/docs/current/datatype-json.html
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate


def check(context: LintContext) -> Iterator[Violation]:
    for column in columns.declared_columns(context):
        if column.type is None or column.type.name != "json":
            continue
        where = f"{column.table}.{column.name}"
        if column.how == "alter":
            what = f"Changing column {where} to {column.type} makes it store"
            offset = columns.alter_column_offset(column.statement, column.name)
        else:
            what = f"Column {where} is declared {column.type}, which stores"
            offset = locate.node_offset(column.statement, "ColumnDef", colname=locate.stored(column.name)) or 0
        yield Violation(
            column.statement,
            f"{what} the raw text: it is re-parsed on every access, has no equality operator and cannot be "
            f"indexed with GIN.",
            "Declare it jsonb.",
            offset=offset,
        )


RULE = Rule(
    id="prefer-jsonb",
    default_severity=Severity.WARNING,
    summary="A json column stores raw text; jsonb is indexable and comparable",
    family="compatibility",
    doc=__doc__,
    check=check,
)
