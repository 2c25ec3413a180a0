"""
## What it does
Flags `DROP INDEX` without `CONCURRENTLY`.

## Why it is dangerous
A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table, which blocks every read
and write of the table. Dropping the index itself is quick, but the statement first waits for
every running query on the table to finish, and every query that arrives meanwhile queues behind
it. `DROP INDEX CONCURRENTLY` waits for those queries without blocking new ones.

## Bad
```sql
DROP INDEX accounts_email_idx;
```

## Good
```sql
-- migguard runs a file that contains CONCURRENTLY statement by statement, outside a transaction.
DROP INDEX CONCURRENTLY IF EXISTS accounts_email_idx;
```

## When it does not fire
`DROP INDEX CONCURRENTLY`. An index created earlier in the same migration on a table (or
materialized view) that the migration also created is reported as info: nobody uses it yet.
Indexes migguard did not see created may belong to any table, so they are always flagged.

## References
- https://www.postgresql.org/docs/current/sql-dropindex.html
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import DROP_INDEX
from migguard.lint.context import LintContext, normalise, table_name
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import DropObjects

HINT = (
    "Use DROP INDEX CONCURRENTLY, one index per statement and without CASCADE (migguard runs a file that "
    "contains CONCURRENTLY outside a transaction)."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        names = _dropped_indexes(statement)
        if not names:
            continue
        tables = [ddl.index_table(context, name, statement.index) for name in names]
        known = sorted({t for t in tables if t})
        if known and all(tables):
            on = f"on {', '.join(known)}"
        else:
            on = "on its table" if len(names) == 1 else "on their tables"
        what = f"index {names[0]}" if len(names) == 1 else f"indexes {', '.join(names)}"
        yield Violation(
            statement,
            f"Dropping {what} without CONCURRENTLY takes an {DROP_INDEX.name} lock {on}, which blocks "
            f"{DROP_INDEX.blocks} while it waits for running queries to finish.",
            HINT,
            new_object=all(t and context.is_new_table(t, statement.index) for t in tables),
        )


def _dropped_indexes(statement: Statement) -> list[str]:
    """Names a DROP INDEX without CONCURRENTLY drops (empty for anything else)."""
    tree, command = statement.ast, statement.command
    if tree is not None and isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "INDEX":
        return [] if tree.args.get("concurrently") else [table_name(t) for t in tree.args.get("tables") or []]
    if isinstance(command, DropObjects) and command.object_kind == "index":
        return [] if command.concurrent else [normalise(n) for n in command.names]
    return []


RULE = Rule(
    id="require-concurrent-index-deletion",
    default_severity=Severity.ERROR,
    summary="DROP INDEX without CONCURRENTLY blocks every read and write of the table",
    family="locks",
    doc=__doc__,
    check=check,
    kinds=frozenset({"DropStmt"}),
)
