"""
## What it does
Refuses `ALTER TABLE … DROP COLUMN` unless `--allow-destructive` is given.

## Why it is dangerous
The column's data is gone the moment the transaction commits; only a backup brings it back.
Application servers still running the previous release keep selecting or inserting the column
and fail until they are replaced. The statement also takes an ACCESS EXCLUSIVE lock, which
blocks every read and write of the table while it waits for and holds it.

## Bad
```sql
ALTER TABLE accounts DROP COLUMN legacy_plan;
```

## Good
```sql
-- Release 1: stop reading and writing the column in the application.
-- Release 2, once no running code uses it, with --allow-destructive and a backup:
-- migguard:ignore ban-drop-column -- unused since release 2024.06, backup taken by apply
ALTER TABLE accounts DROP COLUMN legacy_plan;
```

## When it does not fire
Dropping a column of a table created earlier in the same migration (reported as info: no data
can exist yet). With `--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/ddl-alter.html#DDL-ALTER-REMOVING-A-COLUMN
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, alter_table, identifier, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.shapes import AlterTable

HINT = (
    "Stop using the column in the application and deploy first; drop it in a later migration "
    "with --allow-destructive, once a backup exists."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
                    for column in action.args.get("tables") or []:
                        yield _violation(context, statement, table, identifier(column))
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
            for action in statement.command.actions:
                if action.kind == "drop_column":
                    yield _violation(context, statement, normalise(statement.command.table), action.name or "")


def _violation(context: LintContext, statement, table: str, column: str) -> Violation:
    return Violation(
        statement,
        f"Dropping column {table}.{column} destroys its data and breaks clients that still read or write it.",
        HINT,
        offset=locate.words(statement, "drop column? if? exists? {}", column) or 0,
        new_object=context.is_new_table(table, statement.index),
    )


RULE = Rule(
    id="ban-drop-column",
    default_severity=Severity.ERROR,
    summary="ALTER TABLE … DROP COLUMN loses data and breaks running clients",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt"}),
)
