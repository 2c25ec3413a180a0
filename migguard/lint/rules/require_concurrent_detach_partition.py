"""
## What it does
Flags `ALTER TABLE … DETACH PARTITION` without `CONCURRENTLY`.

## Why it is dangerous
A plain `DETACH PARTITION` takes an ACCESS EXCLUSIVE lock on the partitioned table, which blocks
every read and write of the table and of all its partitions while the statement waits for the
lock and while it runs. Since PostgreSQL 14, `DETACH PARTITION … CONCURRENTLY` takes only a SHARE
UPDATE EXCLUSIVE lock on the parent, so queries keep running. Before 14 there is no online way.

## Bad
```sql
ALTER TABLE measurements DETACH PARTITION measurements_2023;
```

## Good
```sql
-- PostgreSQL 14+, outside a transaction block; if interrupted, finish with … DETACH PARTITION … FINALIZE.
ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;
```

## When it does not fire
`DETACH PARTITION … CONCURRENTLY` and `… FINALIZE`. A partitioned table created earlier in the
same migration is reported as info: nobody uses it yet.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION
- https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import alter_table_lock
from migguard.lint.context import LintContext, normalise
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.shapes import AlterTable


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        command = statement.command
        if not isinstance(command, AlterTable):
            continue
        for action in command.actions:
            if action.kind != "detach_partition" or action.concurrent:
                continue
            table = normalise(command.table)
            partition = normalise(action.name or "")
            yield Violation(
                statement,
                f"Detaching partition {partition} from {table} without CONCURRENTLY takes an "
                f"{alter_table_lock('detach_partition').describe()} and all its partitions, while it waits and runs.",
                _hint(context.settings.pg_version),
                offset=locate.words(statement, "detach partition") or 0,
                new_object=context.is_new_table(table, statement.index),
            )


def _hint(pg_version: int) -> str:
    if pg_version >= 14:
        return ("Use ALTER TABLE … DETACH PARTITION … CONCURRENTLY, outside a transaction block; if it is "
                "interrupted, finish it with DETACH PARTITION … FINALIZE.")
    return (f"PostgreSQL {pg_version} has no DETACH PARTITION … CONCURRENTLY (it arrived in 14): run this in a "
            f"maintenance window with a short lock_timeout, or upgrade first.")


RULE = Rule(
    id="require-concurrent-detach-partition",
    default_severity=Severity.ERROR,
    summary="DETACH PARTITION without CONCURRENTLY blocks the partitioned table",
    family="locks",
    doc=__doc__,
    check=check,
    kinds=frozenset({"AlterTableStmt"}),
)
