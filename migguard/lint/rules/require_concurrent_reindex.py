"""
## What it does
Flags `REINDEX` (of an index, table, schema or database) without `CONCURRENTLY`.

## Why it is dangerous
A plain `REINDEX` takes a SHARE lock on the table, which blocks every write of it, and an ACCESS
EXCLUSIVE lock on each index it rebuilds, which blocks every query that would use that index,
until the rebuild ends: minutes on a large table, much longer for a whole schema or database.
Since PostgreSQL 12, `REINDEX … CONCURRENTLY` builds the new index next to the old one and swaps
them, taking only SHARE UPDATE EXCLUSIVE locks, so reads and writes go on.

## Bad
```sql
REINDEX INDEX accounts_email_idx;
```

## Good
```sql
-- PostgreSQL 12+; migguard runs a file that contains CONCURRENTLY outside a transaction.
REINDEX INDEX CONCURRENTLY accounts_email_idx;
```

## When it does not fire
`REINDEX … CONCURRENTLY` and `REINDEX (CONCURRENTLY) …`. An index or table created earlier in the
same migration is reported as info: nobody uses it yet. `REINDEX SYSTEM` cannot run concurrently
and is flagged: run it in a maintenance window. Before PostgreSQL 12 the hint describes the manual
way (a new index built concurrently, then a swap).

## References
- https://www.postgresql.org/docs/current/sql-reindex.html#SQL-REINDEX-CONCURRENTLY
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import REINDEX, SHARE
from migguard.lint.context import LintContext, normalise
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation
from migguard.sql.shapes import Maintenance


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        command = statement.command
        if not (isinstance(command, Maintenance) and command.command == "reindex") or command.concurrent:
            continue
        kind = command.target_kind or "index"
        target = normalise(command.targets[0]) if command.targets and command.targets[0] else ""
        if kind == "index":
            table = ddl.index_table(context, target, statement.index)
        elif kind == "table":
            table = target
        else:
            table = None
        new = table is not None and context.is_new_table(table, statement.index)
        yield Violation(
            statement,
            f"REINDEX {kind.upper()} {target} without CONCURRENTLY takes a {SHARE.name} lock on "
            f"{'the table' if kind in ('index', 'table') else 'each table'}, which blocks every write of it, and an "
            f"{REINDEX.name} lock on each index it rebuilds, which blocks every query that would use it, until the "
            f"rebuild ends.".replace("  ", " "),
            _hint(context.settings.pg_version, kind),
            new_object=new,
        )


def _hint(pg_version: int, kind: str) -> str:
    if kind == "system":
        return "REINDEX SYSTEM cannot run concurrently: run it in a maintenance window, outside the migrations."
    if pg_version >= 12:
        return ("Use REINDEX … CONCURRENTLY (migguard runs a file that contains CONCURRENTLY outside a transaction); "
                "if it fails it leaves an INVALID index named …_ccnew: drop it and run the statement again.")
    return (f"PostgreSQL {pg_version} has no REINDEX CONCURRENTLY (it arrived in 12): build a copy with CREATE INDEX "
            f"CONCURRENTLY, drop the old index with DROP INDEX CONCURRENTLY and rename the copy.")


RULE = Rule(
    id="require-concurrent-reindex",
    default_severity=Severity.ERROR,
    summary="REINDEX without CONCURRENTLY blocks writes to the table and queries that use the index",
    family="locks",
    doc=__doc__,
    check=check,
    kinds=frozenset({"ReindexStmt"}),
)
