"""
## What it does
Flags `ALTER TABLE … VALIDATE CONSTRAINT` in the same transaction as the `ADD CONSTRAINT … NOT VALID`
that created the constraint.

## Why it is dangerous
`NOT VALID` exists so that the slow check of the existing rows runs later under a weak lock. In the
same transaction the lock `ADD CONSTRAINT` took is still held while `VALIDATE` scans the table: a
SHARE ROW EXCLUSIVE lock for a foreign key (it blocks every write of both tables), an ACCESS
EXCLUSIVE lock for a CHECK (it blocks every read and write). That is exactly as bad as adding the
constraint without `NOT VALID`. migguard runs each migration file in one transaction.

## Bad
```sql
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;
```

## Good
```sql
-- Migration 1:
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;
-- Migration 2, a separate file (its own transaction):
-- ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;
```

## When it does not fire
The `VALIDATE` is in another migration, or separated from the `ADD` by a `COMMIT` in a file
migguard does not wrap (it contains `CONCURRENTLY`, or `assume_in_transaction = false`). An unnamed
constraint is matched by PostgreSQL's default name (`<table>_…_fkey` / `<table>_…_check`). A table
created earlier in the same migration is reported as info: it has no rows to check.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE
from migguard.lint.context import LintContext
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate

HINT = ("Move VALIDATE CONSTRAINT to a later migration (its own transaction), so the check of the old rows "
        "runs under a SHARE UPDATE EXCLUSIVE lock only.")
_SUFFIX = {"foreign": "_fkey", "check": "_check"}


def check(context: LintContext) -> Iterator[Violation]:
    transactions = ddl.transaction_ids(context)
    pending = [c for c in ddl.added_constraints(context) if c.not_valid and c.kind in _SUFFIX]
    for validation in ddl.validations(context):
        statement = validation.statement
        transaction = transactions[statement.index]
        if transaction is None:
            continue
        added = next((c for c in pending if c.statement.index < statement.index
                      and transactions[c.statement.index] == transaction and _same(c, validation)), None)
        if added is None:
            continue
        lock = SHARE_ROW_EXCLUSIVE if added.kind == "foreign" else ACCESS_EXCLUSIVE
        yield Violation(
            statement,
            f"Validating {validation.name} on {validation.table} in the transaction that added it NOT VALID keeps the "
            f"{lock.name} lock of the ADD CONSTRAINT, which blocks {lock.blocks}, while every row is checked.",
            HINT,
            offset=locate.words(statement, "validate constraint {}", validation.name) or 0,
            new_object=context.is_new_table(validation.table, statement.index),
        )


def _same(added: ddl.AddedConstraint, validation: ddl.Validation) -> bool:
    if added.table != validation.table:
        return False
    if added.name:
        return added.name == validation.name
    base = added.table.rsplit(".", 1)[-1]
    return validation.name.startswith(f"{base}_") and validation.name.endswith(_SUFFIX[added.kind])


RULE = Rule(
    id="ban-validate-same-transaction",
    default_severity=Severity.ERROR,
    summary="VALIDATE CONSTRAINT in the transaction that added it NOT VALID keeps the strong lock during the scan",
    family="locks",
    doc=__doc__,
    check=check,
)
