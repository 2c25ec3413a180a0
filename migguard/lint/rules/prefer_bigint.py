"""
## What it does
Flags a primary-key, identity or serial column declared as a 32-bit or 16-bit integer
(`integer`/`int`/`int4`, `smallint`/`int2`, `serial`/`serial4`, `smallserial`/`serial2`) in
`CREATE TABLE` or `ALTER TABLE … ADD COLUMN`, and an `ADD PRIMARY KEY (col)` on such a column
declared earlier in the same file.

## Why it is dangerous
An `integer` key runs out at 2,147,483,647 (a `smallint` at 32,767), and sequences skip values
on every rolled-back insert, so busy tables get there sooner than their row count suggests.
When it happens every insert fails. The fix, `ALTER COLUMN … TYPE bigint`, rewrites the table and
all its indexes under an ACCESS EXCLUSIVE lock, which blocks every read and write of the table,
and the foreign keys that reference the column must be widened the same way.

## Bad
```sql
CREATE TABLE accounts (
    id serial PRIMARY KEY,
    name text NOT NULL
);
```

## Good
```sql
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
```

## When it does not fire
Plain `integer` and `smallint` columns that are not a key, an identity or a serial (counters,
amounts, foreign keys): their range is a modelling choice, not a time bomb. Columns of a composite
primary key, which are usually foreign keys whose width follows the table they reference. Arrays
and domains. A primary key added to a column whose type this file does not declare.

## References
- https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT
- https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-SERIAL
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext, alter_table, table_name
from migguard.lint.facts.columns import DeclaredColumn, declared_columns, primary_key_columns
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement

_SMALL = {"integer": "2,147,483,647", "smallint": "32,767", "serial": "2,147,483,647", "smallserial": "32,767"}
_HINT = ("Declare it bigint (bigint GENERATED ALWAYS AS IDENTITY for a generated key); the 4 extra bytes per row "
         "cost far less than widening the key later.")


def check(context: LintContext) -> Iterator[Violation]:
    known: dict[tuple[str, str], DeclaredColumn] = {}
    flagged: set[tuple[str, str]] = set()
    for column in declared_columns(context):
        if column.temporary:
            continue
        key = (column.table, column.name)
        known[key] = column
        if column.how == "alter" or not _small(column):
            continue
        if column.type.name.endswith("serial"):
            role = f"{column.type.name} column"  # any serial: its sequence feeds the column
        elif column.primary_key:
            role = "primary-key column"
        elif column.identity:
            role = "identity column"
        else:
            continue
        flagged.add(key)
        yield _violation(column.statement, column.offset, f"The {role} {column.qualified}", column)
    yield from _primary_keys_added_later(context, known, flagged)


def _small(column: DeclaredColumn) -> bool:
    return column.type is not None and not column.type.array and column.type.name in _SMALL


def _primary_keys_added_later(context: LintContext, known: dict[tuple[str, str], DeclaredColumn],
                              flagged: set[tuple[str, str]]) -> Iterator[Violation]:
    """ALTER TABLE … ADD [CONSTRAINT …] PRIMARY KEY (col) on a small-integer column declared in this file."""
    for statement in context.parsed():
        tree = alter_table(statement)
        if tree is None:
            continue
        table = table_name(tree.this)
        for action in tree.args.get("actions") or []:
            if not isinstance(action, exp.AddConstraint):
                continue
            for element in action.expressions:
                keys = primary_key_columns(element)
                if keys is None or len(keys) != 1:
                    continue
                key = (table, keys[0])
                column = known.get(key)
                if column is None or key in flagged or column.statement.index >= statement.index or not _small(column):
                    continue
                flagged.add(key)
                offset = locate.words(statement, "primary key") or 0
                yield _violation(statement, offset, f"The primary key {column.qualified} (declared on line "
                                 f"{column.statement.line})", column)


def _violation(statement: Statement, offset: int, subject: str, column: DeclaredColumn) -> Violation:
    name = column.type.name
    width = {"serial": "a 32-bit integer", "smallserial": "a 16-bit integer"}.get(name, name)
    return Violation(
        statement,
        f"{subject} is {width}, which overflows at {_SMALL[name]}; "
        f"widening it later rewrites the table and its indexes under an {ACCESS_EXCLUSIVE.describe()}.",
        _HINT,
        offset=offset,
    )


RULE = Rule(
    id="prefer-bigint",
    default_severity=Severity.WARNING,
    summary="Primary-key, identity and serial columns should be bigint, not integer or smallint",
    family="hygiene",
    doc=__doc__,
    check=check,
)
