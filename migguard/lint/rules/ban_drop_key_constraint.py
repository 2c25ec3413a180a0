"""
## What it does
Refuses `ALTER TABLE … DROP CONSTRAINT` of a primary key or unique constraint unless
`--allow-destructive` is given. The constraint counts as a key when this migration created it as
`PRIMARY KEY` or `UNIQUE`, or when its name says so: PostgreSQL's default names (`<table>_pkey`,
`<table>_<column>_key`), or a name containing `pkey`, `unique` or `uniq`, or starting with `pk_`
or `uq_` (the Alembic/SQLAlchemy convention).

## Why it is dangerous
PostgreSQL stops enforcing uniqueness at once, so duplicates can be written from the next
transaction on and are hard to clean up later. The key's index goes with it: queries that looked
rows up through it turn into sequential scans, `INSERT … ON CONFLICT` on those columns fails
("there is no unique or exclusion constraint matching the ON CONFLICT specification"), foreign
keys that reference it block the drop (or vanish with it under `CASCADE`), and logical
replication loses the replica identity of the table.

## Bad
```sql
ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;
```

## Good
```sql
-- Replace a key without a gap: build the new one first, then drop the old one later.
CREATE UNIQUE INDEX CONCURRENTLY accounts_tenant_email_idx ON accounts (tenant_id, email);
```

## When it does not fire
Constraints whose name does not show what they are and that this migration did not create, such
as foreign keys (`orders_user_id_fkey`) and checks: static analysis cannot tell their kind, and
`migguard plan` checks them against the real catalog of the shadow database. Dropping a key of a
table created earlier in the same migration, or a key created earlier in it, is reported as
info. With `--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import ALTER_TABLE_KINDS, LintContext, alter_table, identifier, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable

HINT = (
    "Keep the key; to change it, add the new one first (CREATE UNIQUE INDEX CONCURRENTLY, then ADD "
    "CONSTRAINT … USING INDEX) and drop the old one in a later migration with --allow-destructive."
)

_KEY_NAME = re.compile(r"pkey|uniq|^pk_|^uq_|_key$", re.IGNORECASE)

# (table, constraint) → (what this file created it as: "primary", "unique" or "other", statement index).
Known = dict[tuple[str, str], tuple[str, int]]


def check(context: LintContext) -> Iterator[Violation]:
    known = _created_constraints(context)
    for statement in context.parsed():
        tree = alter_table(statement)
        command = statement.command
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "CONSTRAINT":
                    for target in action.args.get("tables") or []:
                        yield from _check_one(context, known, statement, table, identifier(target))
        elif isinstance(command, AlterTable) and command.object_kind == "table":
            table = normalise(command.table)
            for action in command.actions:
                if action.kind == "drop_constraint" and action.name:
                    yield from _check_one(context, known, statement, table, action.name)


def _check_one(context: LintContext, known: Known, statement: Statement, table: str,
               name: str) -> Iterator[Violation]:
    kind, created_at = known.get((table, name), (None, statement.index))
    if created_at >= statement.index:
        kind = None  # created later (or never) in this file: judge by the name
    if kind == "other" or (kind is None and not _KEY_NAME.search(name)):
        return
    what = {"primary": "primary key", "unique": "unique constraint"}.get(kind or "", "key constraint")
    if kind is None:
        what = "primary key" if name.lower().endswith("pkey") else "key constraint"
    yield Violation(
        statement,
        f"Dropping {what} {name} of {table} stops PostgreSQL enforcing uniqueness and drops its index: lookups "
        "through it turn into sequential scans and ON CONFLICT clauses and foreign keys that rely on it break.",
        HINT,
        offset=locate.words(statement, "drop constraint if? exists? {}", name) or 0,
        new_object=created_at < statement.index or context.is_new_table(table, statement.index),
    )


# The node kinds of statements that can declare a named constraint on a table (CREATE TABLE … AS names columns
# only: PostgreSQL's grammar has no constraint there, so sqlglot need not read it).
_DECLARES_CONSTRAINTS = ALTER_TABLE_KINDS | {"CreateStmt", "CreateForeignTableStmt"}


def _created_constraints(context: LintContext) -> Known:
    """(table, constraint) → (kind, statement index) for constraints this file creates."""
    known: Known = {}

    def add(table: str, name: str, kind: str, index: int) -> None:
        known.setdefault((table, name), (kind, index))

    for statement in context.accepted():
        if statement.node_kind not in _DECLARES_CONSTRAINTS:
            continue
        tree = statement.ast
        if tree is not None and isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE" \
                and isinstance(tree.this, exp.Schema):
            table = table_name(tree.this)
            for element in tree.this.expressions:
                if isinstance(element, exp.Constraint):
                    add(table, identifier(element.this), _kind(element.expressions), statement.index)
                elif isinstance(element, exp.ColumnDef):
                    for constraint in element.args.get("constraints") or []:
                        if isinstance(constraint, exp.ColumnConstraint) and constraint.this is not None:
                            add(table, identifier(constraint.this), _kind([constraint.args.get("kind")]),
                                statement.index)
        elif (alter := alter_table(statement)) is not None:
            table = table_name(alter.this)
            for action in alter.args.get("actions") or []:
                if isinstance(action, exp.AddConstraint):
                    for constraint in action.expressions:
                        if isinstance(constraint, exp.Constraint):
                            add(table, identifier(constraint.this), _kind(constraint.expressions), statement.index)
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)):
            table = normalise(statement.command.table)
            for command_action in statement.command.actions:
                if command_action.kind == "add_constraint" and command_action.name:
                    kind = command_action.constraint_type if command_action.constraint_type in ("primary", "unique") \
                        else "other"
                    add(table, command_action.name, kind, statement.index)
    return known


def _kind(parts: list) -> str:
    for part in parts:
        if isinstance(part, exp.PrimaryKey | exp.PrimaryKeyColumnConstraint):
            return "primary"
        if isinstance(part, exp.UniqueColumnConstraint):
            return "unique"
    return "other"


RULE = Rule(
    id="ban-drop-key-constraint",
    default_severity=Severity.ERROR,
    summary="Dropping a primary key or unique constraint stops enforcing uniqueness",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt"}),
)
