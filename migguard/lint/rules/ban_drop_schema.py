"""
## What it does
Refuses `DROP SCHEMA` unless `--allow-destructive` is given, with or without `IF EXISTS`,
for each schema the statement names.

## Why it is dangerous
With `CASCADE` every table, view, function and type in the schema goes with it, data included,
and only a backup brings them back. Without `CASCADE` the drop fails wherever the schema is not
empty, which in production it usually is even when it was empty in development. Either way,
clients that use objects in the schema break.

## Bad
```sql
DROP SCHEMA IF EXISTS reporting CASCADE;
```

## Good
```sql
-- Drop the objects one by one, each reviewed, in a migration run with --allow-destructive:
-- migguard:ignore ban-drop-schema -- reporting was moved to the warehouse in 2024.06
DROP SCHEMA reporting;
```

## When it does not fire
Dropping a schema created earlier in the same migration is reported as info. With
`--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-dropschema.html
- https://www.postgresql.org/docs/current/ddl-schemas.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, identifier
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.shapes import DropObjects

HINT = (
    "Move or drop the objects in the schema explicitly, each one reviewed, and drop the empty schema "
    "without CASCADE in a migration run with --allow-destructive, once a backup exists."
)


def check(context: LintContext) -> Iterator[Violation]:
    created = created_schemas(context)
    for statement in context.parsed():
        tree = statement.ast
        if tree is not None and isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "SCHEMA":
            names = [_schema_name(t) for t in tree.args.get("tables") or []]
            cascade = bool(tree.args.get("cascade"))
        elif isinstance(statement.command, DropObjects) and statement.command.object_kind == "schema":
            names = list(statement.command.names)
            cascade = statement.command.cascade
        else:
            continue
        for name in names:
            what = (
                "destroys every table, view and function in it, with their data"
                if cascade
                else "fails where it is not empty and otherwise removes it"
            )
            yield Violation(
                statement,
                f"Dropping schema {name} {what}; clients that use objects in it break.",
                HINT,
                offset=locate.words(statement, "drop schema") or 0,
                new_object=created.get(name, statement.index) < statement.index,
            )


def _schema_name(node: exp.Expression) -> str:
    """sqlglot reads the schema of `DROP SCHEMA s` into the table's `db` slot."""
    if isinstance(node, exp.Table):
        parts = [identifier(node.args.get(k)) for k in ("catalog", "db", "this") if node.args.get(k)]
        return ".".join(parts)
    return identifier(node)


def created_schemas(context: LintContext) -> dict[str, int]:
    """Schema name → index of the statement that creates it in this file."""
    created: dict[str, int] = {}
    for statement in context.accepted():
        if statement.node_kind != "CreateSchemaStmt":
            continue
        tree = statement.ast
        if tree is not None and isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "SCHEMA":
            created.setdefault(_schema_name(tree.this), statement.index)
    return created


RULE = Rule(
    id="ban-drop-schema",
    default_severity=Severity.ERROR,
    summary="DROP SCHEMA destroys or orphans everything in the schema",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"DropStmt"}),
)
