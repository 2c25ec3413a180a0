"""
## What it does
Flags `ALTER TABLE … ALTER COLUMN … SET NOT NULL` on a table that already exists, unless a validated
`CHECK (column IS NOT NULL)` constraint is added earlier in the same migration.

## Why it is dangerous
PostgreSQL scans every row to prove the column holds no NULL, while holding an ACCESS EXCLUSIVE
lock, which blocks every read and write of the table for the whole scan. Since PostgreSQL 12 it
skips the scan when a valid CHECK constraint already proves it; that constraint can be added
`NOT VALID` and validated under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on.

## Bad
```sql
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;
```

## Good
```sql
-- Migration 1 (a file of its own):
-- ALTER TABLE accounts ADD CONSTRAINT accounts_email_not_null CHECK (email IS NOT NULL) NOT VALID;
-- Migration 2:
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_not_null;
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL; -- no scan: the valid CHECK proves it
ALTER TABLE accounts DROP CONSTRAINT accounts_email_not_null;
```

## When it does not fire
An earlier statement of the migration adds a CHECK that implies `column IS NOT NULL` and that is
valid by then (added without `NOT VALID`, or validated with `VALIDATE CONSTRAINT`), or validates a
constraint of the table, added by an earlier migration, whose name contains the column's name
(`VALIDATE CONSTRAINT accounts_email_not_null` before `ALTER COLUMN email SET NOT NULL`). A table
created earlier in the same migration is reported as info: it has no rows to scan. A CHECK
validated by an earlier migration is invisible to migguard: silence the finding with an ignore
that says so. Before PostgreSQL 12 the CHECK does not help, so the rule fires anyway and the hint
says what does.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext, identifier
from migguard.lint.facts import ddl
from migguard.lint.facts.columns import alter_column_offset
from migguard.lint.rule import Rule, Violation
from migguard.sql.lazy import exp


def check(context: LintContext) -> Iterator[Violation]:
    pg_version = context.settings.pg_version
    checks = [c for c in ddl.added_constraints(context) if c.kind == "check" and c.check is not None]
    validated = list(ddl.validations(context))
    for target in ddl.set_not_null(context):
        statement = target.statement
        if pg_version >= 12 and (any(_proves(c, target, validated) for c in checks)
                                 or _validated_elsewhere(target, validated, context)):
            continue
        yield Violation(
            statement,
            f"Setting {target.table}.{target.column} NOT NULL scans every row for NULLs while holding an "
            f"{ACCESS_EXCLUSIVE.describe()}.",
            _hint(pg_version, target.column),
            offset=alter_column_offset(statement, target.column),
            new_object=context.is_new_table(target.table, statement.index),
        )


def _proves(added: ddl.AddedConstraint, target: ddl.NotNullColumn, validated: list[ddl.Validation]) -> bool:
    """A CHECK on the same table, earlier, valid before `target`, that implies `column IS NOT NULL`."""
    before = target.statement.index
    if added.table != target.table or added.statement.index >= before:
        return False
    if not _implies_not_null(added.check, target.column):
        return False
    if not added.not_valid:
        return True
    return bool(added.name) and any(v.table == added.table and v.name == added.name
                                    and added.statement.index < v.statement.index < before for v in validated)


def _validated_elsewhere(target: ddl.NotNullColumn, validated: list[ddl.Validation], context: LintContext) -> bool:
    """VALIDATE, earlier in the file, of a constraint of the table added by an earlier migration and named after
    the column: the second half of the ADD … NOT VALID / VALIDATE pattern."""
    added_here = {(c.table, c.name) for c in ddl.added_constraints(context) if c.name}
    return any(v.table == target.table and v.statement.index < target.statement.index
               and (v.table, v.name) not in added_here and target.column.lower() in v.name.lower() for v in validated)


def _implies_not_null(node: exp.Expression | None, column: str) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _implies_not_null(node.this, column) or _implies_not_null(node.expression, column)
    if isinstance(node, exp.Is) and node.args.get("negate"):
        return _is_null_test(node, column)
    if isinstance(node, exp.Not):
        inner = node.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        return isinstance(inner, exp.Is) and not inner.args.get("negate") and _is_null_test(inner, column)
    return False


def _is_null_test(node: exp.Is, column: str) -> bool:
    subject = node.this
    return (isinstance(node.expression, exp.Null) and isinstance(subject, exp.Column)
            and not subject.table and identifier(subject.this) == column)


def _hint(pg_version: int, column: str) -> str:
    if pg_version >= 12:
        return (f"First ADD CONSTRAINT … CHECK ({column} IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT it in a "
                f"separate migration; SET NOT NULL then skips the scan, and the CHECK can be dropped afterwards.")
    return (f"PostgreSQL {pg_version} scans the table for SET NOT NULL even when a valid CHECK proves it (the "
            f"shortcut arrived in 12): there is no safe way other than a new column (added NOT NULL with a DEFAULT, "
            f"backfilled in batches, then swapped in), or keeping a validated CHECK ({column} IS NOT NULL) instead.")


RULE = Rule(
    id="require-check-for-set-not-null",
    default_severity=Severity.ERROR,
    summary="SET NOT NULL without a validated CHECK scans the table under an ACCESS EXCLUSIVE lock",
    family="locks",
    doc=__doc__,
    check=check,
)
