"""
## What it does
Flags a name longer than 63 bytes given to a table, column, index, constraint, policy, view,
sequence, function, trigger, type or schema: in `CREATE …`, `ALTER TABLE … ADD COLUMN` /
`ADD CONSTRAINT`, and `… RENAME TO`.

## Why it is dangerous
PostgreSQL keeps at most 63 bytes of an identifier (NAMEDATALEN − 1) and cuts the rest off with
only a NOTICE. Two long names that differ after byte 63 become the same name, so the second
`CREATE` fails, or `CREATE … IF NOT EXISTS` silently skips an object that was never created.
Anything that looks the object up by its full name — a catalog query, an ORM comparing its model
with the database, a later migration's `DROP CONSTRAINT IF EXISTS` with the full name — misses it,
so the same migrations behave differently on a re-run.

## Bad
```sql
CREATE INDEX index_subscription_invoices_on_customer_id_and_billing_period_start_and_status
    ON subscription_invoices (customer_id, billing_period_start, status);
```

## Good
```sql
CREATE INDEX subscription_invoices_customer_period_status_idx
    ON subscription_invoices (customer_id, billing_period_start, status);
```

## When it does not fire
Long names that a statement only refers to (they were reported where they were defined), names
PostgreSQL generates itself (it shortens those to fit), and names in statements migguard only
classifies, such as `CREATE DOMAIN` or `CREATE EXTENSION`.

## References
- https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
- https://www.postgresql.org/docs/current/limits.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, identifier
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate, nodes
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, CodeBlock, CreateIndex, CreateTable, CreateView, Policy, Rename

MAX_BYTES = 63  # NAMEDATALEN - 1
_KINDS = {"tabconstraint": "constraint", "domconstraint": "constraint", "materialized view": "view"}


# In ASCII text a name longer than MAX_BYTES is written as a run of that many identifier characters, or
# quoted: a statement without one defines no such name, and is not parsed further for this rule. (A run is
# tried from its first character only: retrying from each of its characters made this scan quadratic in the
# length of every word.)
_LONG_NAME = re.compile(rf'(?<![\w$])[\w$]{{{MAX_BYTES + 1},}}|"(?:[^"]|""){{{MAX_BYTES + 1},}}"')


# Queries and data changes name no object they create (`_defined_names` finds none in them): not parsed for this
# rule, however long the words in their data.
_NAMES_NOTHING = frozenset({"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        if statement.node_kind in _NAMES_NOTHING:
            continue
        if statement.text.isascii() and not _LONG_NAME.search(statement.text):
            continue
        seen: set[tuple[str, str]] = set()
        for what, name in _defined_names(statement):
            if len(name.encode("utf-8")) <= MAX_BYTES or (what, name) in seen:
                continue
            seen.add((what, name))
            size = len(name.encode("utf-8"))
            truncated = name.encode("utf-8")[:MAX_BYTES].decode("utf-8", "ignore")
            yield Violation(
                statement,
                f"The {what} name {name} is {size} bytes; PostgreSQL silently truncates it to {MAX_BYTES} "
                f"({truncated}), so long names can collide and code that uses the full name does not find it.",
                f"Shorten the name to at most {MAX_BYTES} bytes, with the part that makes it unique near the start.",
                offset=_offset(statement, name),
            )


def _defined_names(statement: Statement) -> Iterator[tuple[str, str]]:
    """(kind of object, name) for every name the statement gives to something it creates or renames."""
    tree = statement.ast
    if isinstance(tree, exp.Create):
        yield from _created(tree)
    elif isinstance(tree, exp.Alter):
        kind = _KINDS.get((tree.args.get("kind") or "table").lower(), (tree.args.get("kind") or "table").lower())
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
                yield kind, identifier(action.this.this)
            elif isinstance(action, exp.RenameColumn):
                yield "column", identifier(action.args.get("to"))
            elif isinstance(action, exp.ColumnDef):
                yield from _column(action)
            elif isinstance(action, exp.AddConstraint):
                for constraint in action.expressions:
                    if isinstance(constraint, exp.Constraint):
                        yield "constraint", identifier(constraint.this)
    else:
        for what, name in _recognised(statement):
            yield what, _as_written(statement, name)


def _created(tree: exp.Create) -> Iterator[tuple[str, str]]:
    kind = (tree.args.get("kind") or "").lower()
    target = tree.this
    if isinstance(target, exp.Schema):
        if isinstance(target.this, exp.Table):
            yield kind, identifier(target.this.this)
        for element in target.expressions:
            if isinstance(element, exp.ColumnDef):
                yield from _column(element)
            elif isinstance(element, exp.Constraint):
                yield "constraint", identifier(element.this)
    elif isinstance(target, exp.Index) and target.this is not None:
        yield "index", identifier(target.this)
    elif isinstance(target, exp.UserDefinedFunction) and isinstance(target.this, exp.Table):
        yield kind, identifier(target.this.this)
    elif isinstance(target, exp.Table):
        yield kind, identifier(target.this if target.this is not None else target.args.get("db"))
    elif isinstance(target, exp.Identifier):
        yield kind, identifier(target)


def _column(column: exp.ColumnDef) -> Iterator[tuple[str, str]]:
    yield "column", identifier(column.this)
    for constraint in column.args.get("constraints") or []:
        if isinstance(constraint, exp.ColumnConstraint) and constraint.this is not None:
            yield "constraint", identifier(constraint.this)


def _recognised(statement: Statement) -> Iterator[tuple[str, str]]:
    """Names from PostgreSQL's own parse (already cut to 63 bytes by its scanner)."""
    command = statement.command
    if isinstance(command, CreateTable):
        yield "table", command.table.rsplit(".", 1)[-1]
        for column in command.columns:
            yield "column", column.name
            for name in column.constraints:
                yield "constraint", name
        for name in command.constraints:
            yield "constraint", name
    elif isinstance(command, CreateIndex) and command.name:
        yield "index", command.name
    elif isinstance(command, CreateView):
        yield "view", command.name.rsplit(".", 1)[-1]
    elif isinstance(command, Policy) and command.action == "create":
        yield "policy", command.name
    elif isinstance(command, Rename):
        yield _KINDS.get(command.object_kind, command.object_kind), command.new_name
    elif isinstance(command, AlterTable):
        for action in command.actions:
            if action.kind == "add_column" and action.column is not None:
                yield "column", action.column.name
                for name in action.column.constraints:
                    yield "constraint", name
            elif action.kind == "add_constraint" and action.name:
                yield "constraint", action.name
    elif isinstance(command, CodeBlock) and command.kind != "do" and command.name:
        yield command.kind, command.name.rsplit(".", 1)[-1]


def _as_written(statement: Statement, name: str) -> str:
    """The full name in the statement text, when PostgreSQL's scanner has cut it to 63 bytes."""
    return nodes.as_written(statement.text, name)


def _offset(statement: Statement, name: str) -> int:
    """Where the long name is written: a name token (the names a finding cites carry no location of their
    own in PostgreSQL's tree: a column, a constraint, an index or a function is found the same way)."""
    return locate.words(statement, "{}", name) or 0


RULE = Rule(
    id="identifier-too-long",
    default_severity=Severity.ERROR,
    summary="Names longer than 63 bytes are silently truncated by PostgreSQL",
    family="hygiene",
    doc=__doc__,
    check=check,
)
