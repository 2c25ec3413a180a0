"""What the data-changing statements of a migration reach, read once for the rules that ask.

`ban-delete-without-where` and `ban-update-without-where` ask the same question of a `DELETE` and
of an `UPDATE`: does it (or one in its `WITH` clause) reach every row of its table, because it has
no `WHERE` or one that is constantly true? This module answers it; each rule keeps its own docs,
message and hint.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from migguard.lint.context import LintContext, table_name
from migguard.sql import locate, nodes
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement


@dataclass(frozen=True, slots=True)
class UnboundedWrite:
    """A DELETE or UPDATE that reaches every row of its table."""

    statement: Statement
    table: str
    always_true: bool  # it has a WHERE clause, one that is constantly true; else it has none
    offset: int  # the WHERE clause, else the DELETE / UPDATE keyword
    new_table: bool  # the table was created earlier in this migration

    @property
    def why(self) -> str:
        return "has a WHERE clause that is always true" if self.always_true else "has no WHERE clause"


# PostgreSQL's node kinds of statements that are, or hold in a WITH clause, a DELETE or UPDATE.
DML_KINDS = frozenset({"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})


def unbounded_writes(context: LintContext, node_kind: str) -> Iterator[UnboundedWrite]:
    """Every DELETE or UPDATE (`node_kind` "DeleteStmt" or "UpdateStmt") of the file, WITH clauses included,
    without a real WHERE."""
    for statement in context.accepted():
        if statement.node_kind not in DML_KINDS or not _may_reach_every_row(statement.node, node_kind):
            continue
        kind = getattr(exp, _SQLGLOT_CLASSES[node_kind])  # sqlglot's class, named once a statement needs it
        for node in _dml(statement.ast, kind):
            where = node.args.get("where")
            if where is not None and not _constant_true(where.this):
                continue
            name = table_name(node.this)
            yield UnboundedWrite(statement, name, where is not None,
                                 locate.words(statement, "where" if where is not None else kind.key) or 0,
                                 context.is_new_table(name, statement.index))


_SQLGLOT_CLASSES = {"DeleteStmt": "Delete", "UpdateStmt": "Update"}


def _may_reach_every_row(tree: dict | None, node_kind: str) -> bool:
    """Might a `node_kind` in PostgreSQL's tree of the statement (anywhere in it) reach every row? Not when each
    has a WHERE whose shape cannot be constantly true (a column compared with a value, IN, LIKE, a function
    call, …): those are never parsed with sqlglot. The rest is judged on sqlglot's tree by `_constant_true`."""
    if tree is None:
        return True
    for found in nodes.find(tree, node_kind):
        where = found.get("whereClause")
        if where is None or _may_be_constant(where):
            return True
    return False


_COMPARISON_OPERATORS = frozenset({"=", "<>", "!=", ">", ">=", "<", "<="})
_CONSTANTS = frozenset({"A_Const", "TypeCast"})


def _may_be_constant(node: dict) -> bool:
    """Could this WHERE (libpg_query JSON) be one `_constant_true` accepts? Constants, casts, boolean tests and
    AND/OR/NOT may be; a comparison only of two constants or of two columns; anything else is not."""
    kind, body = next(iter(node.items()))
    if kind in _CONSTANTS or kind in ("BooleanTest", "BoolExpr"):
        return True
    if kind == "A_Expr" and body.get("kind") == "AEXPR_OP":
        operator = [n.get("String", {}).get("sval") for n in body.get("name") or ()]
        if operator and operator[-1] in _COMPARISON_OPERATORS:
            sides = {next(iter(body[side])) for side in ("lexpr", "rexpr") if isinstance(body.get(side), dict)}
            return len(sides) >= 1 and (sides <= _CONSTANTS or sides == {"ColumnRef"})
    return False


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
    """A filter that keeps every row: `true`, `1 = 1`, `2 > 1`, `'a' <> 'b'`, `id = id`, `NOT false`,
    `true IS TRUE`, `(true)`, `true::boolean`, `true OR …`, `true AND true`. ("Meaningful" is anything
    else: a condition on the row's values, however broad, is the author's stated intent.)"""
    if isinstance(node, exp.Paren):
        return _constant_true(node.this)
    if isinstance(node, exp.Cast) and node.to.is_type("boolean"):
        return _constant_true(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Boolean) and node.expression.this:
        return _constant_true(node.this)
    if isinstance(node, exp.EQ) and isinstance(node.this, exp.Column) and node.this == node.expression:
        return True  # id = id: every row whose id is not NULL
    if isinstance(node, _comparisons()):
        return _literal_comparison(node) is True
    if isinstance(node, exp.Or):
        return _constant_true(node.this) or _constant_true(node.expression)
    if isinstance(node, exp.And):
        return _constant_true(node.this) and _constant_true(node.expression)
    if isinstance(node, exp.Not):
        return _constant_false(node.this)
    return False


def _constant_false(node: exp.Expression | None) -> bool:
    if isinstance(node, exp.Paren):
        return _constant_false(node.this)
    if isinstance(node, exp.Boolean):
        return not node.this
    if isinstance(node, _comparisons()):
        return _literal_comparison(node) is False
    return False


@functools.cache
def _compare() -> dict[type, Callable[[object, object], bool]]:
    """sqlglot's comparison classes → the comparison each makes (built on first use: see migguard.sql.lazy)."""
    return {exp.EQ: operator.eq, exp.NEQ: operator.ne, exp.GT: operator.gt, exp.GTE: operator.ge, exp.LT: operator.lt,
            exp.LTE: operator.le}


@functools.cache
def _comparisons() -> tuple[type, ...]:
    return tuple(_compare())


def _literal_comparison(node: exp.Expression) -> bool | None:
    """The value of a comparison of two literals of the same kind, else None."""
    left, right = node.this, node.expression
    if not (isinstance(left, exp.Literal) and isinstance(right, exp.Literal)) or left.is_string != right.is_string:
        return None
    try:
        a, b = (left.this, right.this) if left.is_string else (float(left.this), float(right.this))
    except ValueError:
        return None
    return _compare()[type(node)](a, b)
