"""
## What it does
Flags the first statement of a migration that takes a strong lock on an existing table (any
`ALTER TABLE`, `CREATE INDEX` without `CONCURRENTLY`, `DROP INDEX`, `DROP TABLE`, `TRUNCATE`,
`REINDEX`, `CREATE TRIGGER`, policies, a foreign key's lock on the referenced table, …) when no
`SET lock_timeout`, `SET LOCAL lock_timeout` or `set_config('lock_timeout', …)` comes before it.

## Why it is dangerous
A statement that needs a strong lock waits for every transaction that holds a conflicting lock,
however long it runs, and while it waits every new query that conflicts with it queues behind it:
behind an ACCESS EXCLUSIVE request even plain reads do. One slow report or idle-in-transaction
session in front of a quick `ALTER TABLE` stalls the application. With a short `lock_timeout` the
statement gives up instead, and the migration can be retried.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN note text;
```

## Good
```sql
SET lock_timeout = '2s';
ALTER TABLE accounts ADD COLUMN note text;
```

## When it does not fire
A lock timeout is set earlier in the file (and not switched off again with `0`, `DEFAULT` or
`RESET`, as pg_dump output does). Only the first offending statement of a file is reported.
Tables created earlier in the same migration (nobody else waits on them), and statements that
take weak locks (`CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`, `SET (storage_parameter …)`).
The finding is a warning, not an error: `migguard apply` sets `lock_timeout` itself (`lock_timeout`
in the configuration, default 2s) and retries with backoff, so the file is safe when migguard
applies it; the warning matters when another tool, or a person, runs it.

## References
- https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation

HINT = ("Start the migration with SET lock_timeout = '2s' (SET LOCAL inside a transaction), so the statement gives "
        "up instead of stalling the table, and retry it later.")


def check(context: LintContext) -> Iterator[Violation]:
    for lock in ddl.table_locks(context):
        statement = lock.statement
        if not lock.lock.strong or context.lock_timeout_before(statement.index) or ddl.is_new_target(context, lock):
            continue
        queued = "query on" if lock.lock is ACCESS_EXCLUSIVE else "write of"
        yield Violation(
            statement,
            f"{lock.action} takes {_article(lock.lock.name)} {lock.lock.name} lock on {lock.target} with no "
            f"lock_timeout set before it: while it waits behind a long-running transaction, every new {queued} "
            f"the table queues behind it.",
            HINT,
        )
        return


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


RULE = Rule(
    id="require-lock-timeout",
    default_severity=Severity.WARNING,
    summary="A statement takes a strong lock with no lock_timeout set before it",
    family="locks",
    doc=__doc__,
    check=check,
)
