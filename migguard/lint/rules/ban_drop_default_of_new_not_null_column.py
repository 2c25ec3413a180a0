"""
## What it does
Flags `ALTER COLUMN … DROP DEFAULT` (or `SET DEFAULT NULL`) of a `NOT NULL` column that an `ALTER
TABLE … ADD COLUMN` of the same migration added to an existing table.

## Why it is dangerous
The application servers still running the previous release do not know the new column, so their
INSERTs leave it out. While the column has a default, PostgreSQL fills it in; once the default is
dropped, every such INSERT fails with `null value in column … violates not-null constraint` until
the last old server is replaced: adding the column with a default only to drop it at once (what an
ORM that keeps defaults in the application emits) turns a rolling deploy into failed writes.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';
ALTER TABLE accounts ALTER COLUMN plan DROP DEFAULT;
```

## Good
```sql
-- Keep the default in this release; drop it in a later migration, once every running server
-- writes the column itself.
ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';
```

## When it does not fire
The column is nullable, was added by an earlier migration (the running code then already writes
it), or belongs to a table created in the same migration (no running code inserts into it yet).
`SET DEFAULT` to another value.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-DEFAULT
- https://github.com/tbicr/django-pg-zero-downtime-migrations#create-column-not-null
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, alter_table, display, identifier, normalise, table_name
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable

HINT = ("Keep the default in this migration, and drop it in a later one, once no running server inserts rows "
        "without the column.")


def check(context: LintContext) -> Iterator[Violation]:
    added = {(normalise(c.table), c.name): c for c in columns.added_columns(context)
             if c.not_null and c.has_default and not context.is_new_table(c.table, c.statement.index)}
    if not added:
        return
    for statement in context.parsed():
        for table, column in _dropped_defaults(statement):
            new = added.get((table, column))
            if new is None or new.statement.index >= statement.index:
                continue
            yield Violation(
                statement,
                f"Dropping the default of {display(table)}.{display(column)}, a NOT NULL column added on line "
                f"{new.statement.line}, makes every INSERT of the running code, which does not know the column yet, "
                "fail the NOT NULL constraint.",
                HINT,
                offset=columns.alter_column_offset(statement, column, "drop|set default"),
            )


def _dropped_defaults(statement: Statement) -> Iterator[tuple[str, str]]:
    """(table, column) of each ALTER COLUMN … DROP DEFAULT / SET DEFAULT NULL of the statement."""
    tree = alter_table(statement)
    if tree is not None:
        table = table_name(tree.this)
        for action in tree.args.get("actions") or []:
            if not isinstance(action, exp.AlterColumn):
                continue
            keys = {key for key, value in action.args.items() if value is not None and value is not False}
            if keys == {"this", "drop"} or (keys == {"this", "default"} and isinstance(action.args["default"],
                                                                                        exp.Null)):
                yield table, identifier(action.this)
    elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
        for action in statement.command.actions:
            if action.kind == "column_default" and action.name and (
                    action.expression is None or action.expression.strip().upper() == "NULL"):
                yield normalise(statement.command.table), action.name


RULE = Rule(
    id="ban-drop-default-of-new-not-null-column",
    default_severity=Severity.ERROR,
    summary="DROP DEFAULT of a NOT NULL column added in the same migration fails the running code's INSERTs",
    family="compatibility",
    doc=__doc__,
    check=check,
)
