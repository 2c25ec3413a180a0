"""
## What it does
Flags `CREATE [UNIQUE] INDEX` without `CONCURRENTLY` on a table that already exists.

## Why it is dangerous
A plain `CREATE INDEX` takes a SHARE lock, which blocks every write of the table (reads continue)
for as long as the index builds: every `INSERT`, `UPDATE` and `DELETE` waits, for minutes on a
large table. `CREATE INDEX CONCURRENTLY` takes only a SHARE UPDATE EXCLUSIVE lock, so writes go on
while it scans the table twice.

## Bad
```sql
CREATE INDEX accounts_email_idx ON accounts (email);
```

## Good
```sql
-- migguard runs a file that contains CONCURRENTLY statement by statement, outside a transaction.
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON accounts (email);
```

## When it does not fire
`CREATE INDEX CONCURRENTLY`. An index on a table or materialized view created earlier in the same
migration is reported as info: nobody writes to it yet. Indexes on a partitioned table cannot be
built concurrently (build one per partition concurrently, then `CREATE INDEX ON ONLY` the parent
and `ALTER INDEX … ATTACH PARTITION`); migguard cannot tell a partitioned table it did not see
created, so such a statement is flagged and needs an ignore with its reason.

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import CREATE_INDEX
from migguard.lint.context import LintContext
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation

HINT = (
    "Use CREATE INDEX CONCURRENTLY (migguard runs a file that contains CONCURRENTLY outside a transaction); "
    "if it fails it leaves an INVALID index: drop it and run the statement again."
)


def check(context: LintContext) -> Iterator[Violation]:
    for build in ddl.index_builds(context):
        if build.concurrent:
            continue
        statement = build.statement
        what = f"index {build.name}" if build.name else "an index"
        kind = "unique " if build.unique else ""
        yield Violation(
            statement,
            f"Creating {kind}{what} on {build.table} without CONCURRENTLY takes a {CREATE_INDEX.describe()} "
            f"while the index builds.",
            HINT,
            new_object=context.is_new_table(build.table, statement.index),
        )


RULE = Rule(
    id="require-concurrent-index-creation",
    default_severity=Severity.ERROR,
    summary="CREATE INDEX without CONCURRENTLY blocks writes to the table while it builds",
    family="locks",
    doc=__doc__,
    check=check,
)
