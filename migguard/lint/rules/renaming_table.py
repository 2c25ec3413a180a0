"""
## What it does
Refuses `ALTER TABLE … RENAME TO` unless `--allow-destructive` is given.

## Why it is dangerous
Application servers still running the previous release keep using the old name, and every one of
their queries on the table fails from the moment the migration commits until the last of them is
replaced: a rolling deploy turns into an outage. Views, functions and reports written against the
old name by hand, outside the migrations, break too. The rename takes an ACCESS EXCLUSIVE lock,
which blocks every read and write of the table while it waits for and holds it.

## Bad
```sql
ALTER TABLE customers RENAME TO accounts;
```

## Good
```sql
-- Rename, and keep the old name working as a view until no running code uses it:
ALTER TABLE customers RENAME TO accounts;
CREATE VIEW customers AS SELECT * FROM accounts;
```

## When it does not fire
When the same migration creates a view under the old name after the rename (a simple view over
one table is updatable, so old clients keep reading and writing). Renaming a table created
earlier in the same migration is reported as info. Renames of views, indexes and sequences. With
`--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/sql-createview.html#SQL-CREATEVIEW-UPDATABLE-VIEWS
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, alter_table, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import Rename


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        tree = alter_table(statement)
        command = statement.command if statement.node_kind == "RenameStmt" else None
        if tree is not None:
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterRename):
                    yield from _violation(context, statement, table_name(tree.this), table_name(action.this))
        elif isinstance(command, Rename) and command.object_kind == "table" and command.relation:
            yield from _violation(context, statement, normalise(command.relation), normalise(command.new_name))


def _violation(context: LintContext, statement: Statement, old: str, new: str) -> Iterator[Violation]:
    if _old_name_kept(context, statement.index, old):
        return
    yield Violation(
        statement,
        f"Renaming table {old} to {new} breaks every running client that still uses the name {old}.",
        f"Keep the old name working: create a view {old} over {new} in the same migration (CREATE VIEW {old} "
        f"AS SELECT * FROM {new}) and drop it once no running code uses it.",
        offset=locate.words(statement, "rename") or 0,
        new_object=context.is_new_table(old, statement.index),
    )


def _old_name_kept(context: LintContext, index: int, old: str) -> bool:
    """Does a later statement create a view under the old name?"""
    schema = old.rsplit(".", 1)[0] + "." if "." in old else ""
    for statement in context.statements[index + 1:]:
        tree = statement.ast
        if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "VIEW":
            name = table_name(tree.this)
            if name == old or (schema and "." not in name and schema + name == old):
                return True
    return False


RULE = Rule(
    id="renaming-table",
    default_severity=Severity.ERROR,
    summary="ALTER TABLE … RENAME TO breaks clients that use the old name",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
)
