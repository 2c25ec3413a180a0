"""
## What it does
Refuses `ALTER TYPE … RENAME VALUE` (renaming a label of an enum type) unless
`--allow-destructive` is given.

## Why it is dangerous
The rename changes every stored value at once, in the catalog. Application servers still running
the previous release keep writing the old label, and each such INSERT or UPDATE fails with
`invalid input value for enum`; their queries that compare with the old label silently match
nothing; views, functions, CHECK constraints and reports written against it break or change
meaning. A rolling deploy turns into errors and wrong results until the last old server is gone.

## Bad
```sql
ALTER TYPE order_status RENAME VALUE 'done' TO 'completed';
```

## Good
```sql
-- Add the new label, let the application write it (and read both), backfill, and stop using
-- the old label; an enum label cannot be dropped, so keep it or replace the type later.
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'completed' AFTER 'done';
```

## When it does not fire
`ALTER TYPE … ADD VALUE` (see require-enum-value-position), `ALTER TYPE … RENAME TO` and
`RENAME ATTRIBUTE`. A type created earlier in the same migration is reported as info: no stored
value or running code uses it yet. With `--allow-destructive` the finding is a warning and does
not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-altertype.html
- https://github.com/ankane/strong_migrations#renaming-an-enum-value
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import CREATE_TYPE_KINDS, LintContext, display, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import EnumValue


def check(context: LintContext) -> Iterator[Violation]:
    if not any(s.node_kind == "AlterEnumStmt" for s in context.statements):
        return  # nothing renames an enum value: the types the file creates do not matter
    created: dict[str, int] = {}
    for statement in context.parsed():
        name = _created_type(statement)
        if name:
            created.setdefault(name, statement.index)
        command = statement.command if statement.node_kind == "AlterEnumStmt" else None
        if not isinstance(command, EnumValue) or command.renamed_from is None:
            continue
        type_name = normalise(command.type_name)
        yield Violation(
            statement,
            f"Renaming value '{command.renamed_from}' of enum type {display(type_name)} to '{command.value}' "
            f"changes every stored '{command.renamed_from}' at once: running code that still writes the old "
            "label fails, and its queries comparing with it match nothing.",
            f"Add '{command.value}' as a new value (ALTER TYPE {display(type_name)} ADD VALUE IF NOT EXISTS), move "
            f"the application and the rows over to it, and stop using '{command.renamed_from}' instead of renaming "
            "it (or pass --allow-destructive when no running code uses the old label).",
            offset=locate.words(statement, "rename value") or 0,
            new_object=created.get(type_name, statement.index) < statement.index,
        )


def _created_type(statement: Statement) -> str | None:
    """The type a `CREATE TYPE` statement creates (an enum: sqlglot reads those)."""
    if statement.node_kind not in CREATE_TYPE_KINDS:  # the kind answers without parsing further
        return None
    tree = statement.ast
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TYPE":
        return table_name(tree.this)
    return None


RULE = Rule(
    id="renaming-enum-value",
    default_severity=Severity.ERROR,
    summary="ALTER TYPE … RENAME VALUE breaks running code that uses the old label",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
)
