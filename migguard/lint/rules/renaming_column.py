"""
## What it does
Refuses `ALTER TABLE … RENAME [COLUMN] … TO …` unless `--allow-destructive` is given.

## Why it is dangerous
Application servers still running the previous release keep selecting, inserting and updating the
column under its old name, and each of those queries fails from the moment the migration commits
until the last of them is replaced: a rolling deploy turns into an outage. Views, functions and
reports written against the old name by hand, outside the migrations, break too. The rename takes
an ACCESS EXCLUSIVE lock, which blocks every read and write of the table while it waits for and
holds it.

## Bad
```sql
ALTER TABLE accounts RENAME COLUMN name TO full_name;
```

## Good
```sql
-- Release 1: add the new column; the application writes both and reads the new one.
ALTER TABLE accounts ADD COLUMN full_name text;
-- Backfill in batches from a job; drop the old column in a later release.
```

## When it does not fire
Renaming a column of a table created earlier in the same migration, or a column added earlier in
it, is reported as info: no running code uses it yet. Renames of constraints and indexes. With
`--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/ddl-alter.html#DDL-ALTER-RENAMING-COLUMN
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, alter_table, identifier, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, Rename

HINT = (
    "Add a column with the new name, write both and backfill, move every reader to it, and drop the old "
    "column in a later release (expand, then contract)."
)


def check(context: LintContext) -> Iterator[Violation]:
    added = _added_columns(context)
    for statement in context.parsed():
        tree = alter_table(statement)
        command = statement.command
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.RenameColumn):
                    yield _violation(context, added, statement, table, identifier(action.this),
                                     identifier(action.args.get("to")))
        elif isinstance(command, Rename) and command.object_kind == "column" and command.relation:
            yield _violation(context, added, statement, normalise(command.relation), command.old_name or "",
                             command.new_name)


def _violation(context: LintContext, added: dict[tuple[str, str], int], statement: Statement, table: str,
               old: str, new: str) -> Violation:
    new_column = added.get((table, old), statement.index) < statement.index
    return Violation(
        statement,
        f"Renaming column {table}.{old} to {new} breaks every running client that still reads or writes {old}.",
        HINT,
        offset=locate.words(statement, "rename column? {}", old) or 0,
        new_object=new_column or context.is_new_table(table, statement.index),
    )


def _added_columns(context: LintContext) -> dict[tuple[str, str], int]:
    """(table, column) → index of the ALTER TABLE … ADD COLUMN that adds it in this file."""
    added: dict[tuple[str, str], int] = {}
    for statement in context.parsed():
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef):
                    added.setdefault((table, identifier(action.this)), statement.index)
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
            table = normalise(statement.command.table)
            for action in statement.command.actions:
                if action.kind == "add_column" and action.name:
                    added.setdefault((table, action.name), statement.index)
    return added


RULE = Rule(
    id="renaming-column",
    default_severity=Severity.ERROR,
    summary="ALTER TABLE … RENAME COLUMN breaks clients that use the old name",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt"}),
)
