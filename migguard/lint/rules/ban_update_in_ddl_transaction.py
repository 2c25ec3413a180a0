"""
## What it does
Flags a statement that reads or writes a whole table in the same transaction as an earlier
statement that took a strong lock on that existing table: an `UPDATE` (a backfill), `DELETE`,
`MERGE` or `INSERT … SELECT` into it after `ALTER TABLE`, `CREATE INDEX` without `CONCURRENTLY`, a
foreign key that references it, …; and a `SELECT` (or any query) that reads it after a statement
took its ACCESS EXCLUSIVE lock (`SELECT count(*) FROM t` after `ALTER TABLE t …`).

## Why it is dangerous
A lock is held until the transaction ends. After `ALTER TABLE … ADD COLUMN`, the table's ACCESS
EXCLUSIVE lock, which blocks every read and write of the table, stays held while the `UPDATE`
rewrites every row or the `SELECT` scans them: the quick schema change becomes an outage as long
as the scan. migguard runs each migration file in one transaction, so the whole file is that
transaction. Writes are blocked by weaker locks too (the SHARE lock of `CREATE INDEX`), reads only
by ACCESS EXCLUSIVE.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN plan text;
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
SELECT count(*) FROM accounts;
```

## Good
```sql
-- Migration 1:
ALTER TABLE accounts ADD COLUMN plan text;
-- Migration 2, a separate file (or a job), in batches that each commit:
-- UPDATE accounts SET plan = 'free' WHERE id BETWEEN 1 AND 10000 AND plan IS NULL;
```

## When it does not fire
The statement comes before the DDL, runs in another transaction (another migration, or after a
`COMMIT` in a file migguard does not wrap), or touches a table the transaction holds no strong lock
on; a read of a table whose lock still lets reads through (SHARE, SHARE ROW EXCLUSIVE);
`INSERT … VALUES` (it adds rows, it scans nothing). Tables created earlier in the same migration:
nobody else waits on them. A `WHERE` clause does not exempt a statement: without the catalog
migguard cannot tell that an index serves it. Statements inside `DO` blocks and functions are not
analysed.

## References
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
- https://www.postgresql.org/docs/current/sql-update.html
- https://kaveland.no/eugene/hints/E4/index.html
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from migguard.core import locks
from migguard.core.findings import Severity
from migguard.lint.context import LintContext, table_name
from migguard.lint.facts import ddl
from migguard.lint.facts.dml import DML_KINDS
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate, nodes
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement

HINT = ("Backfill in a separate migration that runs after this one commits, in batches that each commit "
        "(UPDATE … WHERE id BETWEEN … AND …), outside the DDL transaction.")


READ_HINT = ("Run the query in a separate migration, after the one that changes the table has committed, or "
             "drop it from the migration.")


@functools.cache
def _writes() -> dict[type[exp.Expression], str]:
    """sqlglot's writing statements → how a message names the write (built on first use: see migguard.sql.lazy)."""
    return {exp.Update: "UPDATE of", exp.Delete: "DELETE from", exp.Merge: "MERGE into",
            exp.Insert: "INSERT … SELECT into"}


def check(context: LintContext) -> Iterator[Violation]:
    transactions = ddl.transaction_ids(context)
    held: dict[tuple[int, str], ddl.TableLock] = {}  # (transaction, table) → the strongest lock taken on it, first
    for statement in context.parsed():
        transaction = transactions[statement.index]
        if transaction is None:
            continue
        # Which tables it touches matters only where this transaction already holds a strong lock on one of them.
        locked = [table for owner, table in held if owner == transaction]
        touched = _touched_tables(statement, locked) if locked else {}
        for table, verb in touched.items():
            lock = held.get((transaction, table))
            if lock is None or (verb is None and lock.lock is not locks.ACCESS_EXCLUSIVE):
                continue
            if verb is None:
                message = (f"This statement reads {table} in the transaction of the {lock.action} on line "
                           f"{lock.statement.line}, so its {lock.lock.name} lock, which blocks {lock.lock.blocks}, is "
                           "held while the read scans the table.")
                yield Violation(statement, message, READ_HINT, offset=_read_offset(statement, table))
                continue
            yield Violation(
                statement,
                f"This {verb} {table} runs in the transaction of the {lock.action} on line {lock.statement.line}, "
                f"so its {lock.lock.name} lock, which blocks {lock.lock.blocks}, is held until the whole "
                f"{'backfill' if verb == 'UPDATE of' else 'statement'} commits.",
                HINT,
                offset=locate.words(statement, verb.split()[0]) or 0,
            )
        for lock in ddl.locks_of(context, statement):
            if lock.table and lock.lock.strong and not ddl.is_new_target(context, lock):
                key = (transaction, lock.table)
                if key not in held or ddl.strongest([held[key].lock, lock.lock]) is not held[key].lock:
                    held[key] = lock


def _touched_tables(statement: Statement, locked: list[str]) -> dict[str, str | None]:
    """Tables a query or DML statement writes (→ how a message names the write: 'UPDATE of', …) or only
    reads (→ None); none when PostgreSQL's tree names none of the `locked` ones (sqlglot need not read it)."""
    if statement.node_kind not in DML_KINDS or not nodes.may_name(statement.node, statement.text, locked):
        return {}  # answered without sqlglot
    tree = statement.ast
    if not isinstance(tree, exp.Query | exp.Update | exp.Delete | exp.Merge | exp.Insert):
        return {}
    touched: dict[str, str | None] = {}
    targets: set[int] = set()
    writes = _writes()
    for node in tree.find_all(*writes):
        if isinstance(node, exp.Insert) and not isinstance(node.expression, exp.Query):
            target = node.this.this if isinstance(node.this, exp.Schema) else node.this
            if isinstance(target, exp.Table):
                targets.add(id(target))  # INSERT … VALUES adds rows: it scans nothing
            continue
        target = node.this.this if isinstance(node.this, exp.Schema) else node.this
        if isinstance(target, exp.Table):
            targets.add(id(target))
            name = table_name(target)
            if touched.get(name) != "UPDATE of":
                touched[name] = writes[type(node)]
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.find_all(exp.Table):
        if id(node) in targets or not node.name or (not node.args.get("db") and node.name.lower() in ctes):
            continue
        touched.setdefault(table_name(node), None)
    return touched


def _read_offset(statement: Statement, table: str) -> int:
    found = locate.relation_offset(statement, table.rsplit(".", 1)[-1])
    return found if found else locate.words(statement, "select") or 0


RULE = Rule(
    id="ban-update-in-ddl-transaction",
    default_severity=Severity.ERROR,
    summary="A backfill or scan of a table in the DDL's transaction holds the DDL's strong lock until it ends",
    family="locks",
    doc=__doc__,
    check=check,
)
