"""
## What it does
Flags a `CREATE POLICY` or `ALTER POLICY` whose `USING` or `WITH CHECK` expression is always
true: `true`, `1 = 1`, `'a' = 'a'`, `NOT false`, `x OR true`, or a column compared with itself
(`tenant_id = tenant_id`, true for every row that has a tenant).

## Why it is dangerous
Permissive policies are combined with `OR`: one that is always true gives every session, whatever
tenant it acts for, every row of the table, and cancels the tenant policies beside it. An
always-true `WITH CHECK` lets a session insert rows for, or move rows to, any other tenant.

## Bad
```sql
CREATE POLICY allow_all ON invoices USING (true) WITH CHECK (true);
```

## Good
```sql
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
```

## When it does not fire
`AS RESTRICTIVE` policies (they only narrow access, so an always-true one grants nothing), and a
permissive always-true policy on a table that gets, in the same migration, a restrictive policy
for the same command that compares the tenant column with the tenant setting (the restrictive
policy still isolates tenants). Expressions that are only true for some rows, and functions the
rule cannot see into, are left to the isolation probe of `migguard plan`.

## References
- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
- https://www.postgresql.org/docs/current/sql-createpolicy.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display, normalise, quote_name
from migguard.lint.rule import Rule, Violation
from migguard.lint.rules.require_tenant_policy import keyed_on_tenant
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.shapes import Policy

_TRUE_TEXTS = {"t", "tr", "tru", "true", "y", "ye", "yes", "on", "1"}


def always_true(expression: str | None, table: str) -> str | None:
    """Why a (PostgreSQL-deparsed) policy expression is true for every row: "constant", "self-comparison", or None."""
    if not expression:
        return None
    import sqlglot  # on first use (see migguard.sql.lazy)
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.simplify import simplify

    try:
        tree = sqlglot.parse_one(expression, read="postgres")
    except (SqlglotError, RecursionError, ValueError):
        return "constant" if expression.strip().upper() == "TRUE" else None
    if tree is None:
        return None
    relation = normalise(table).rsplit(".", 1)[-1]
    compared_with_itself = []

    def fold(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.BOOLEAN) and isinstance(node.this, exp.Literal):
            return exp.true() if node.this.name.strip().lower() in _TRUE_TEXTS else exp.false()
        if isinstance(node, exp.EQ | exp.NullSafeEQ) and node.find_ancestor(exp.Select) is None:
            left, right = _column_key(node.this, relation), _column_key(node.expression, relation)
            if left is not None and left == right:
                compared_with_itself.append(left)
                return exp.true()
        return node

    try:
        folded = simplify(tree.transform(fold))
    except (SqlglotError, RecursionError, ValueError, TypeError, AttributeError):
        return None
    if not (isinstance(folded, exp.Boolean) and folded.this is True):
        return None
    return "self-comparison" if compared_with_itself else "constant"


def _column_key(node: exp.Expression, relation: str) -> str | None:
    """A column of the policy's own table, by name; None for anything else."""
    if not isinstance(node, exp.Column) or node.args.get("db"):
        return None
    qualifier = node.table
    if qualifier and qualifier.lower() != relation.lower():
        return None
    return node.name


def _restrictive_tenant_guard(context: LintContext, policy: Policy) -> bool:
    column, setting = context.settings.tenant_column, context.settings.tenant_setting
    for other in context.policies.get(normalise(policy.table), []):
        if other.permissive or other.command not in ("all", policy.command):
            continue
        if keyed_on_tenant(other.using, column, setting) or (
                other.command == "insert" and keyed_on_tenant(other.with_check, column, setting)):
            return True
    return False


def check(context: LintContext) -> Iterator[Violation]:
    column, setting = context.settings.tenant_column, context.settings.tenant_setting
    for statement in context.parsed():
        policy = statement.command
        if not isinstance(policy, Policy) or policy.action == "drop" or not policy.permissive:
            continue
        reasons = {name: always_true(text, policy.table)
                   for name, text in (("USING", policy.using), ("WITH CHECK", policy.with_check))}
        clauses = [name for name, reason in reasons.items() if reason]
        if not clauses or _restrictive_tenant_guard(context, policy):
            continue
        table = normalise(policy.table)
        shown = display(table)
        harm = []
        if "USING" in clauses:
            verb = {"select": "read", "update": "update", "delete": "delete"}.get(policy.command, "read and change")
            harm.append(f"{verb} every row of {shown}")
        if "WITH CHECK" in clauses or ("USING" in clauses and policy.with_check is None
                                       and policy.action == "create" and policy.command in ("all", "update")):
            harm.append("write rows for any tenant")
        roles = [r for r in policy.roles if r != "public"]
        who = f"every session of {', '.join(roles)}" if roles else "every session"
        why = " (it compares a column with itself)" if "self-comparison" in reasons.values() else ""
        known = context.tenant_tables.get(table)
        condition = f"{column} = current_setting('{setting}')::{(known.type_name if known else None) or 'uuid'}"
        yield Violation(
            statement,
            f"Policy {quote_name(policy.name)} on {shown} has an always-true {' and '.join(clauses)}{why}: it lets {who}, "
            f"whatever tenant it acts for, {' and '.join(harm)}, and overrides the other permissive policies on "
            "the table.",
            f"Compare the tenant column with the tenant setting instead, e.g. `USING ({condition}) WITH CHECK "
            f"({condition})`.",
            offset=locate.words(statement, "with check" if clauses == ["WITH CHECK"] else "using") or 0,
        )


RULE = Rule(
    id="ban-constant-true-policy",
    default_severity=Severity.ERROR,
    summary="a row level security policy whose USING or WITH CHECK is always true",
    family="tenancy",
    doc=__doc__,
    check=check,
    kinds=frozenset({"CreatePolicyStmt", "AlterPolicyStmt"}),
)
