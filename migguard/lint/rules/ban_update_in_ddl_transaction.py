"""
## What it does
Flags an `UPDATE` (a backfill) that runs in the same transaction as an earlier statement that took
a strong lock on the same existing table: `ALTER TABLE`, `CREATE INDEX` without `CONCURRENTLY`,
a foreign key that references the table, …

## Why it is dangerous
A lock is held until the transaction ends. After `ALTER TABLE … ADD COLUMN`, the table's ACCESS
EXCLUSIVE lock, which blocks every read and write of the table, stays held while the `UPDATE`
rewrites every row: the quick schema change becomes an outage as long as the backfill. migguard
runs each migration file in one transaction, so the whole file is that transaction.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN plan text;
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
```

## Good
```sql
-- Migration 1:
ALTER TABLE accounts ADD COLUMN plan text;
-- Migration 2, a separate file (or a job), in batches that each commit:
-- UPDATE accounts SET plan = 'free' WHERE id BETWEEN 1 AND 10000 AND plan IS NULL;
```

## When it does not fire
The `UPDATE` comes before the DDL, runs in another transaction (another migration, or after a
`COMMIT` in a file migguard does not wrap), or changes a table the transaction holds no strong lock
on. Tables created earlier in the same migration: nobody else waits on them. `UPDATE`s inside `DO`
blocks and functions are not analysed.

## References
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
- https://www.postgresql.org/docs/current/sql-update.html
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, table_name
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation, at
from migguard.sql.parse import Statement

HINT = ("Backfill in a separate migration that runs after this one commits, in batches that each commit "
        "(UPDATE … WHERE id BETWEEN … AND …), outside the DDL transaction.")


def check(context: LintContext) -> Iterator[Violation]:
    transactions = ddl.transaction_ids(context)
    held: dict[tuple[int, str], ddl.TableLock] = {}  # (transaction, table) → the strongest lock taken on it, first
    for statement in context.parsed():
        transaction = transactions[statement.index]
        if transaction is None:
            continue
        for table in _updated_tables(statement):
            lock = held.get((transaction, table))
            if lock is None:
                continue
            yield Violation(
                statement,
                f"This UPDATE of {table} runs in the transaction of the {lock.action} on line {lock.statement.line}, "
                f"so its {lock.lock.name} lock, which blocks {lock.lock.blocks}, is held until the whole backfill "
                f"commits.",
                HINT,
                offset=at(statement, r"\bupdate\b"),
            )
        for lock in ddl.locks_of(context, statement):
            if lock.table and lock.lock.strong and not ddl.is_new_target(context, lock):
                key = (transaction, lock.table)
                if key not in held or ddl.strongest([held[key].lock, lock.lock]) is not held[key].lock:
                    held[key] = lock


def _updated_tables(statement: Statement) -> list[str]:
    """Tables the statement UPDATEs: the statement itself, or UPDATEs in its WITH clause."""
    tree = statement.ast
    if tree is None:
        return []
    nodes = [tree] if isinstance(tree, exp.Update) else []
    with_clause = tree.args.get("with_") or tree.args.get("with")
    if isinstance(with_clause, exp.With):
        nodes += [cte.this for cte in with_clause.expressions
                  if isinstance(cte, exp.CTE) and isinstance(cte.this, exp.Update)]
    return list(dict.fromkeys(table_name(node.this) for node in nodes))


RULE = Rule(
    id="ban-update-in-ddl-transaction",
    default_severity=Severity.ERROR,
    summary="A backfill UPDATE in the DDL's transaction holds the DDL's strong lock until it ends",
    family="locks",
    doc=__doc__,
    check=check,
)
