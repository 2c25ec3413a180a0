"""
## What it does
Refuses `ALTER SCHEMA … RENAME TO` unless `--allow-destructive` is given.

## Why it is dangerous
Every query, view body written by hand, function, `search_path` setting and connection string
of the running application that names the schema stops working the moment the migration commits:
application servers still running the previous release fail every query on every table of the
schema until the last of them is replaced. Unlike a renamed table, a renamed schema cannot be
kept working under its old name by a view: that needs a view per table of a new schema.

## Bad
```sql
ALTER SCHEMA billing RENAME TO invoicing;
```

## Good
```sql
-- Create the new schema, move or re-create objects in steps the application follows, and drop
-- the old schema only once no running code uses it:
CREATE SCHEMA invoicing;
```

## When it does not fire
Renaming a schema created earlier in the same migration (reported as info: nobody uses it yet).
With `--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-alterschema.html
- https://github.com/ankane/strong_migrations#renaming-a-schema
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display
from migguard.lint.rule import Rule, Violation
from migguard.lint.rules.ban_drop_schema import created_schemas
from migguard.sql import locate
from migguard.sql.shapes import Rename


def check(context: LintContext) -> Iterator[Violation]:
    created = created_schemas(context)
    for statement in context.parsed():
        command = statement.command
        if isinstance(command, Rename) and command.object_kind == "schema" and command.old_name:
            old, new = command.old_name, command.new_name
            shown_old, shown_new = display(old), display(new)
            yield Violation(
                statement,
                f"Renaming schema {shown_old} to {shown_new} breaks every running client, view, function and "
                f"search_path that still names {shown_old}: each of their queries on its tables fails.",
                f"Keep schema {shown_old}: create {shown_new} beside it and move objects in steps the application "
                f"follows, dropping {shown_old} only once no running code uses it (or pass --allow-destructive in a "
                "maintenance window).",
                offset=locate.words(statement, "rename") or 0,
                new_object=created.get(old, statement.index) < statement.index,
            )


RULE = Rule(
    id="renaming-schema",
    default_severity=Severity.ERROR,
    summary="ALTER SCHEMA … RENAME TO breaks clients that use the old name",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"RenameStmt"}),
)
