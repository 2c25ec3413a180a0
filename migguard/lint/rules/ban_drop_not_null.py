"""
## What it does
Flags `ALTER TABLE … ALTER COLUMN … DROP NOT NULL`.

## Why it is dangerous
The column may hold NULL from now on. Application code, reports, ORMs with non-optional fields
and downstream consumers that rely on it always having a value start failing on the first NULL
(null dereferences, failed deserialisation, `WHERE col = …` silently skipping rows), and
the constraint cannot be put back without validating every row.

## Bad
```sql
ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;
```

## Good
```sql
-- Release 1: make every reader handle NULL. Release 2, once deployed:
-- migguard:ignore ban-drop-not-null -- readers handle NULL since release 2024.06
ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;
```

## When it does not fire
`SET NOT NULL`, `DROP DEFAULT` and other column changes. A table created earlier in the same
migration is reported as info: no client reads it yet.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, alter_table, identifier, normalise, table_name
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable

HINT = "Make every reader of the column handle NULL and deploy that first; then drop the constraint."


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterColumn) and action.args.get("drop") and action.args.get("allow_null"):
                    yield _violation(context, statement, table, identifier(action.this))
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
            for act in statement.command.actions:
                if act.kind == "drop_not_null":
                    yield _violation(context, statement, normalise(statement.command.table), act.name or "")


def _violation(context: LintContext, statement: Statement, table: str, column: str) -> Violation:
    return Violation(
        statement,
        f"Dropping NOT NULL on {table}.{column} lets NULLs in, which breaks clients that assume the column "
        f"always has a value.",
        HINT,
        offset=columns.alter_column_offset(statement, column, "drop not null"),
        new_object=context.is_new_table(table, statement.index),
    )


RULE = Rule(
    id="ban-drop-not-null",
    default_severity=Severity.WARNING,
    summary="ALTER COLUMN … DROP NOT NULL breaks clients that assume a value",
    family="compatibility",
    doc=__doc__,
    check=check,
    kinds=frozenset({"AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt"}),
)
