"""
## What it does
Flags `ALTER TABLE … ADD COLUMN … DEFAULT` with a volatile default (`random()`,
`gen_random_uuid()`, `uuid_generate_v4()`, `clock_timestamp()`, `nextval(…)`, `timeofday()`, …)
on a table that already exists. When the target is older than PostgreSQL 11 (`pg_version`), it
flags every non-NULL default, because those versions rewrite the table for any default.

## Why it is dangerous
Since PostgreSQL 11 a constant or stable default (`0`, `'free'`, `now()`) is evaluated once and
stored in the catalog, so adding the column is instant. A volatile default must be evaluated
for each existing row, so PostgreSQL rewrites the whole table, and all its indexes, while
holding an ACCESS EXCLUSIVE lock, which blocks every read and write of the table until the
rewrite ends: minutes to hours on a large table.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN api_key uuid DEFAULT gen_random_uuid();
```

## Good
```sql
-- Add the column, then set the default for new rows only (neither rewrites the table);
-- backfill existing rows in batches afterwards.
ALTER TABLE accounts ADD COLUMN api_key uuid;
ALTER TABLE accounts ALTER COLUMN api_key SET DEFAULT gen_random_uuid();
```

## When it does not fire
Constant and stable defaults (`now()`, `CURRENT_TIMESTAMP`, literals, casts of literals) on
PostgreSQL 11+; `DEFAULT NULL`; `ALTER COLUMN … SET DEFAULT`, which only affects new rows; serial
and identity columns (ban-add-serial-column reports those). Functions whose volatility migguard
cannot know (user-defined ones) are not flagged. A table created earlier in the same migration is
reported as info: it has no rows to rewrite.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
- https://www.postgresql.org/docs/current/xfunc-volatility.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext
from migguard.sql.lazy import exp
from migguard.sql.parse import postgres_sql
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation

# Built-in and common extension functions that PostgreSQL marks VOLATILE (pg_proc.provolatile = 'v').
VOLATILE_FUNCTIONS = frozenset({
    "random", "random_normal", "setseed", "gen_random_uuid", "uuidv4", "uuidv7", "uuid_generate_v1",
    "uuid_generate_v1mc", "uuid_generate_v4", "gen_random_bytes", "gen_salt", "clock_timestamp", "timeofday",
    "nextval", "setval", "currval", "lastval",
})
_CALL = re.compile(r"\b(" + "|".join(sorted(VOLATILE_FUNCTIONS)) + r")\s*\(", re.IGNORECASE)
HINT = ("Add the column without a DEFAULT, then set it with ALTER COLUMN … SET DEFAULT (new rows only, no rewrite) "
        "and backfill existing rows in batches.")


def check(context: LintContext) -> Iterator[Violation]:
    version = context.settings.pg_version
    for column in columns.added_columns(context):
        if not column.has_default:
            continue
        where = f"{column.table}.{column.name}"
        if version < 11:
            message = (f"On PostgreSQL {version}, adding column {where} with a DEFAULT rewrites the whole table to "
                       f"store the value in every row, holding an {ACCESS_EXCLUSIVE.describe()} until it ends.")
        else:
            function = volatile_call(column.default, column.default_text)
            if function is None:
                continue
            message = (f"Adding column {where} with a DEFAULT that calls the volatile {function}() rewrites the "
                       f"whole table to compute a value for every row, holding an {ACCESS_EXCLUSIVE.describe()} "
                       f"until it ends.")
        yield Violation(
            column.statement,
            message,
            HINT,
            offset=columns.add_column_offset(column.statement, column.name),
            new_object=context.is_new_table(column.table, column.statement.index),
        )


def volatile_call(default: exp.Expression | None, text: str | None) -> str | None:
    """Name of the first volatile function the default calls, if any."""
    if default is None:  # sqlglot could not read PostgreSQL's text of it: look for a call by name
        match = _CALL.search(text or "")
        return match.group(1).lower() if match else None
    for node in default.walk():
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name in VOLATILE_FUNCTIONS:
                return name
    return None


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    # sqlglot types known functions (random() is exp.Rand); its PostgreSQL spelling gives the real name.
    return postgres_sql(node).split("(", 1)[0].strip().lower()


RULE = Rule(
    id="ban-volatile-default",
    default_severity=Severity.ERROR,
    summary="ADD COLUMN with a volatile DEFAULT (any DEFAULT before PostgreSQL 11) rewrites the table",
    family="locks",
    doc=__doc__,
    check=check,
)
