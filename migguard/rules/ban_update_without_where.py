"""
## What it does
Refuses an `UPDATE` without a `WHERE` clause, or with one that is constantly true
(`WHERE true`, `WHERE 1 = 1`), unless `--allow-destructive` is given. An `UPDATE` inside a
`WITH` clause is checked the same way.

## Why it is dangerous
It overwrites the column in every row of the table, and the old values are gone the moment the
transaction commits; only a backup brings them back. A `WHERE` in a subquery or a `FROM` join does
not narrow an `UPDATE` whose own `WHERE` is missing. On a large table it also locks every row,
blocking concurrent writers until the migration commits, and writes a new version of every row
(table bloat, WAL volume, replication lag).

## Bad
```sql
UPDATE accounts SET plan = 'free';
```

## Good
```sql
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
```

## When it does not fire
An `UPDATE` with a real `WHERE` condition, however broad. Updating a table created earlier in the
same migration is reported as info. With `--allow-destructive` the finding is a warning and does
not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-update.html
- https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from migguard.findings import Severity
from migguard.rules.base import Rule, Violation, at
from migguard.rules.context import LintContext, table_name

HINT = (
    "Add a WHERE clause naming the rows to change (for a backfill, `WHERE col IS NULL` in batches); if "
    "every row must change, say so with --allow-destructive and an ignore that gives the reason."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        for node in _dml(statement.ast, exp.Update):
            where = node.args.get("where")
            if where is not None and not _constant_true(where.this):
                continue
            name = table_name(node.this)
            why = "has no WHERE clause" if where is None else "has a WHERE clause that is always true"
            yield Violation(
                statement,
                f"This UPDATE of {name} {why}, so it overwrites every row of the table.",
                HINT,
                offset=at(statement, r"\bwhere\b" if where is not None else r"\bupdate\b"),
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
    id="ban-update-without-where",
    default_severity=Severity.ERROR,
    summary="UPDATE without a WHERE clause overwrites every row of the table",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
)
