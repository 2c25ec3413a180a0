"""
## What it does
Refuses `DROP TABLE` unless `--allow-destructive` is given, with or without `IF EXISTS`, for
each table a multi-table drop names.

## Why it is dangerous
Every row of the table is gone the moment the transaction commits; only a backup brings it back.
Application servers still running the previous release keep querying the table and fail until
they are replaced. `IF EXISTS` does not make it safe: it only hides the error where the table is
missing, and destroys the data wherever it exists. The drop also takes an ACCESS EXCLUSIVE lock,
which blocks every read and write of the table while it waits for and holds it.

## Bad
```sql
DROP TABLE IF EXISTS legacy_invoices;
```

## Good
```sql
-- Release 1: stop reading and writing the table in the application.
-- Release 2, once no running code uses it, with --allow-destructive and a backup:
-- migguard:ignore ban-drop-table -- unused since release 2024.06, backup taken by apply
DROP TABLE legacy_invoices;
```

## When it does not fire
`DROP VIEW`, `DROP INDEX` and other objects (see their own rules). Dropping a table created
earlier in the same migration, such as a staging table, is reported as info: no data can exist
yet. With `--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-droptable.html
- https://www.postgresql.org/docs/current/ddl-depend.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import DropObjects

HINT = (
    "Stop using the table in the application and deploy first (or rename it and keep it for a "
    "while); drop it in a later migration with --allow-destructive, once a backup exists."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        tree = statement.ast
        if tree is not None and isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
            names = [table_name(t) for t in tree.args.get("tables") or []]
            if_exists = bool(tree.args.get("exists"))
        elif isinstance(statement.command, DropObjects) and statement.command.object_kind == "table":
            names = [normalise(n) for n in statement.command.names]
            if_exists = statement.command.missing_ok
        else:
            continue
        for name in names:
            yield _violation(context, statement, name, if_exists)


def _violation(context: LintContext, statement: Statement, name: str, if_exists: bool) -> Violation:
    caveat = " IF EXISTS does not prevent that where the table exists." if if_exists else ""
    return Violation(
        statement,
        f"Dropping table {name} destroys all of its rows and breaks every client that still reads or writes it."
        + caveat,
        HINT,
        offset=_name_offset(statement, name.rsplit(".", 1)[-1]),
        new_object=context.is_new_table(name, statement.index),
    )


def _name_offset(statement: Statement, name: str) -> int:
    """Where `name` (quoted or not) first appears after DROP TABLE; the statement start otherwise. (A DROP's
    object names have no location in PostgreSQL's tree: they are found among the statement's tokens.)"""
    keyword = locate.words(statement, "drop table")
    found = locate.words(statement, "{}", name, after=keyword + 1) if keyword is not None else None
    return found if found is not None else locate.words(statement, "drop") or 0


RULE = Rule(
    id="ban-drop-table",
    default_severity=Severity.ERROR,
    summary="DROP TABLE destroys the table's data and breaks running clients",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"DropStmt"}),
)
