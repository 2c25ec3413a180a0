"""
## What it does
Refuses a `DELETE` without a `WHERE` clause, or with one that is constantly true
(`WHERE true`, `WHERE 1 = 1`), unless `--allow-destructive` is given. A `DELETE` inside a
`WITH` clause is checked the same way.

## Why it is dangerous
It removes every row of the table; the rows are gone the moment the transaction commits and only
a backup brings them back. A `WHERE` in a subquery or a `USING` join does not narrow a `DELETE`
whose own `WHERE` is missing. On a large table it also holds row locks on every row and writes
the whole table to the WAL in one transaction.

## Bad
```sql
DELETE FROM audit_events;
```

## Good
```sql
DELETE FROM audit_events WHERE created_at < now() - interval '1 year';
```

## When it does not fire
A `DELETE` with a real `WHERE` condition, however broad. Deleting from a table created earlier in
the same migration is reported as info. With `--allow-destructive` the finding is a warning and
does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-delete.html
- https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from migguard.findings import Severity
from migguard.rules.base import Rule, Violation, at
from migguard.rules.context import LintContext, table_name

HINT = (
    "Add a WHERE clause naming the rows to remove; if every row must go, say so with "
    "--allow-destructive and an ignore that gives the reason."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        for node in _dml(statement.ast, exp.Delete):
            where = node.args.get("where")
            if where is not None and not _constant_true(where.this):
                continue
            name = table_name(node.this)
            why = "has no WHERE clause" if where is None else "has a WHERE clause that is always true"
            yield Violation(
                statement,
                f"This DELETE from {name} {why}, so it removes every row of the table.",
                HINT,
                offset=at(statement, r"\bwhere\b" if where is not None else r"\bdelete\b"),
                new_object=context.is_new_table(name, statement.index),
            )


def _dml(tree: exp.Expression | None, kind: type[exp.Expression]) -> Iterator[exp.Expression]:
    """The statement itself when it is a `kind`, and the `kind`s of its WITH clause."""
    if tree is None:
        return
    if isinstance(tree, kind):
        yield tree
    with_clause = tree.args.get("with_") or tree.args.get("with")
    if isinstance(with_clause, exp.With):
        for cte in with_clause.expressions:
            if isinstance(cte, exp.CTE) and isinstance(cte.this, kind):
                yield cte.this


def _constant_true(node: exp.Expression | None) -> bool:
    """`true`, `1 = 1`, `'a' = 'a'`, `(true)`, `true OR …`, `true AND true`."""
    if isinstance(node, exp.Paren):
        return _constant_true(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.EQ):
        left, right = node.this, node.expression
        return (isinstance(left, exp.Literal) and isinstance(right, exp.Literal)
                and left.is_string == right.is_string and left.this == right.this)
    if isinstance(node, exp.Or):
        return _constant_true(node.this) or _constant_true(node.expression)
    if isinstance(node, exp.And):
        return _constant_true(node.this) and _constant_true(node.expression)
    if isinstance(node, exp.Not):
        return isinstance(node.this, exp.Boolean) and not node.this.this
    return False


RULE = Rule(
    id="ban-delete-without-where",
    default_severity=Severity.ERROR,
    summary="DELETE without a WHERE clause removes every row of the table",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
)
