"""
## What it does
Flags columns declared or retyped as `timestamp` (`timestamp without time zone`, with or without a
precision, and arrays of it) in `CREATE TABLE`, `ALTER TABLE … ADD COLUMN` and
`ALTER TABLE … ALTER COLUMN … TYPE`.

## Why it is dangerous
`timestamp` stores a wall-clock reading with no time zone. The same instant written by sessions
with different `TimeZone` settings (an application server, a cron job, psql on a laptop) is stored
as different values, times in the hour a DST change repeats are ambiguous, and comparing with
`now()` (a `timestamptz`) silently converts through the session's zone. `timestamptz` stores an
absolute instant, takes the same 8 bytes, and shows it in whatever zone the session asks for.

## Bad
```sql
ALTER TABLE orders ADD COLUMN shipped_at timestamp;
```

## Good
```sql
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
```

## When it does not fire
`timestamptz` / `timestamp with time zone`, `date` and `time` columns; `timestamp` in casts,
function signatures and view queries (only table columns are checked).

## References
- https://www.postgresql.org/docs/current/datatype-datetime.html
- https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_timestamp_.28without_time_zone.29
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.facts.columns import declared_columns
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    for column in declared_columns(context):
        if column.temporary or column.type is None or column.type.name != "timestamp":
            continue
        precision = f"({column.type.params[0]})" if column.type.params else ""
        array = "[]" if column.type.array else ""
        spelled = f"timestamp{precision} without time zone{array}"
        verb = "is changed to" if column.how == "alter" else "is"
        yield Violation(
            column.statement,
            f"Column {column.qualified} {verb} {spelled}, which stores a wall-clock time with no zone: values "
            "written under different TimeZone settings or across a DST change cannot be compared or converted "
            "correctly.",
            f"Declare it timestamptz{precision}{array} (timestamp with time zone): same 8 "
            "bytes, stores the instant, and shows it in the session's time zone.",
            offset=column.offset,
        )


RULE = Rule(
    id="prefer-timestamptz",
    default_severity=Severity.WARNING,
    summary="Use timestamptz instead of timestamp without time zone for columns",
    family="hygiene",
    doc=__doc__,
    check=check,
)
