"""
## What it does
Refuses any `DROP … CASCADE` unless `--allow-destructive` is given: of a table, schema, view,
type, domain, function, index, sequence, extension or any other object, and
`ALTER TABLE … DROP COLUMN / DROP CONSTRAINT … CASCADE`.

## Why it is dangerous
`CASCADE` silently drops every object that depends on the one named (views, foreign keys,
column defaults, functions, and for a schema or extension everything in it), and PostgreSQL only
lists them in a NOTICE nobody reads. The dependents in production are often not the ones in
development, so the migration destroys objects, and data, that it never names and nobody
reviewed.

## Bad
```sql
DROP TYPE invoice_status CASCADE;
```

## Good
```sql
-- Drop the dependents explicitly, then the object without CASCADE: PostgreSQL refuses if
-- anything else still depends on it.
ALTER TABLE invoices ALTER COLUMN status TYPE text;
DROP TYPE invoice_status;
```

## When it does not fire
A drop without `CASCADE` (or with `RESTRICT`). `DROP POLICY … CASCADE`, where the keyword has no
effect. Dropping a table created earlier in the same migration, or a column or constraint of
one, is reported as info: nothing older can depend on it. With `--allow-destructive` the finding
is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/ddl-depend.html
- https://www.postgresql.org/docs/current/sql-droptable.html
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, identifier, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, DropObjects

HINT = (
    "Drop the dependent objects explicitly first, then drop this one without CASCADE so PostgreSQL "
    "refuses if anything else still depends on it."
)

# PostgreSQL's object kinds (ObjectType, as sql/shapes.py spells them) → how a message names them.
_SPOKEN = {
    "fdw": "foreign data wrapper", "statistic ext": "statistics object", "opclass": "operator class",
    "opfamily": "operator family", "tsconfiguration": "text search configuration",
    "tsdictionary": "text search dictionary", "tsparser": "text search parser", "tstemplate": "text search template",
}
# ALTER TABLE actions (PostgreSQL AlterTableType, snake case) that drop something.
_ALTER_DROPS = {"drop_column": "column", "drop_constraint": "constraint"}


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        tree = statement.ast
        command = statement.command
        if tree is not None and isinstance(tree, exp.Drop) and tree.args.get("cascade"):
            kind = _kind(tree)
            for target in tree.args.get("tables") or []:
                name = _name(target)
                new = kind == "table" and context.is_new_table(name, statement.index)
                yield _violation(statement, kind, name, new)
        elif tree is not None and isinstance(tree, exp.Alter):
            owner = table_name(tree.this)
            is_table = (tree.args.get("kind") or "").upper() == "TABLE"
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.Drop) and action.args.get("cascade"):
                    kind = _kind(action)
                    new = is_table and context.is_new_table(owner, statement.index)
                    for target in action.args.get("tables") or []:
                        name = identifier(target)
                        yield _violation(statement, kind, f"{name} of {owner}", new, _drop_clause(statement, name))
        elif isinstance(command, DropObjects) and command.cascade:
            for name in command.names:
                new = command.object_kind == "table" and context.is_new_table(name, statement.index)
                kind = _SPOKEN.get(command.object_kind, command.object_kind)
                yield _violation(statement, kind, normalise(name), new)
        elif isinstance(command, AlterTable):
            owner = normalise(command.table)
            for action in command.actions:
                if action.cascade:
                    kind = _ALTER_DROPS.get(action.kind, action.kind.replace("_", " "))
                    if command.object_kind == "type" and kind == "column":
                        kind = "attribute"
                    new = command.object_kind == "table" and context.is_new_table(owner, statement.index)
                    yield _violation(statement, kind, f"{action.name} of {owner}", new,
                                     _drop_clause(statement, action.name or ""))


def _kind(tree: exp.Drop) -> str:
    kind = (tree.args.get("kind") or "object").lower()
    return f"materialized {kind}" if tree.args.get("materialized") else kind


def _name(node: exp.Expression) -> str:
    if isinstance(node, exp.Table):
        parts = [identifier(node.args.get(k)) for k in ("catalog", "db", "this") if node.args.get(k)]
        return normalise(".".join(parts))
    return identifier(node)


def _drop_clause(statement: Statement, name: str) -> int:
    """Offset of the `DROP … name` clause of an ALTER that drops several things; CASCADE otherwise."""
    return locate.words(statement, "drop *? if? exists? {}", name) or locate.words(statement, "cascade") or 0


def _violation(statement: Statement, kind: str, name: str, new: bool, offset: int | None = None) -> Violation:
    return Violation(
        statement,
        f"Dropping {kind} {name} with CASCADE also drops, without naming them, every object that depends "
        "on it (views, foreign keys, defaults, functions), and their data.",
        HINT,
        offset=(locate.words(statement, "cascade") or 0) if offset is None else offset,
        new_object=new,
    )


RULE = Rule(
    id="ban-drop-cascade",
    default_severity=Severity.ERROR,
    summary="DROP … CASCADE silently drops every dependent object",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"DropStmt", "DropOwnedStmt", "DropdbStmt", "DropRoleStmt", "DropTableSpaceStmt", "AlterTableStmt", "AlterDomainStmt", "AlterTypeStmt", "AlterEnumStmt", "AlterObjectSchemaStmt", "RenameStmt"}),
)
