"""
## What it does
Refuses `DROP DATABASE` in a migration unless `--allow-destructive` is given, with or without
`IF EXISTS` or `WITH (FORCE)`.

## Why it is dangerous
Every schema, table and row of the database is gone at once, and only a backup brings it back.
`WITH (FORCE)` first terminates every session connected to it. A migration runs against whatever
database its connection string names, so a stray drop in a migration file is one wrong
environment variable away from deleting production.

## Bad
```sql
DROP DATABASE IF EXISTS analytics;
```

## Good
```sql
-- Databases are created and dropped by provisioning, not by migrations.
DROP SCHEMA IF EXISTS analytics_staging;
```

## When it does not fire
Never silent in a migration. With `--allow-destructive` the finding is a warning and does not
fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-dropdatabase.html
- https://www.postgresql.org/docs/current/manage-ag-dropdb.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.shapes import DropObjects

HINT = "Drop databases by hand or in provisioning code, outside the migration history, once a backup exists."


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        tree = statement.ast
        if tree is not None and isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "DATABASE":
            names = [table_name(t) for t in tree.args.get("tables") or []]
        elif isinstance(statement.command, DropObjects) and statement.command.object_kind == "database":
            names = list(statement.command.names)
        else:
            continue
        for name in names:
            yield Violation(
                statement,
                f"Dropping database {name} destroys every schema, table and row in it.",
                HINT,
                offset=locate.words(statement, "drop database") or 0,
            )


RULE = Rule(
    id="ban-drop-database",
    default_severity=Severity.ERROR,
    summary="DROP DATABASE destroys a whole database",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"DropdbStmt", "DropStmt"}),
)
