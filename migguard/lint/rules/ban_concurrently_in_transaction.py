"""
## What it does
Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY` and
`ALTER TABLE … DETACH PARTITION … CONCURRENTLY` inside an explicit `BEGIN … COMMIT` block.

## Why it is dangerous
These statements commit several transactions of their own, so PostgreSQL refuses them inside a
transaction block ("cannot run inside a transaction block"): the migration fails when it reaches
the statement, after the statements before it in the block have taken their locks, and is rolled
back. migguard never wraps a file that contains `CONCURRENTLY` in a transaction itself; only a
`BEGIN` written in the file puts the statement in one.

## Bad
```sql
BEGIN;
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
COMMIT;
```

## Good
```sql
-- migguard runs this file statement by statement, outside a transaction.
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
```

## When it does not fire
A `CONCURRENTLY` statement outside any explicit transaction block, and
`REFRESH MATERIALIZED VIEW CONCURRENTLY`, which PostgreSQL allows in a transaction. The word in a
comment, a string or a function body does not count. Tables created earlier in the migration make
no difference: PostgreSQL refuses the statement anyway.

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
- https://www.postgresql.org/docs/current/sql-reindex.html
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, CreateIndex, DropObjects, Maintenance

HINT = (
    "Remove the BEGIN … COMMIT around it: migguard runs a file that contains CONCURRENTLY statement by "
    "statement, outside a transaction. Move statements that must be atomic to a migration of their own."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        if not (statement.runs_concurrently and context.explicit_transaction[statement.index]):
            continue
        yield Violation(
            statement,
            f"{_what(statement)} cannot run inside a transaction block: PostgreSQL refuses it here, so the "
            f"migration fails and is rolled back.",
            HINT,
            offset=locate.words(statement, "concurrently") or 0,
        )


def _what(statement: Statement) -> str:
    tree, command = statement.ast, statement.command
    if isinstance(tree, exp.Create) or isinstance(command, CreateIndex):
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(tree, exp.Drop) or isinstance(command, DropObjects):
        return "DROP INDEX CONCURRENTLY"
    if isinstance(command, Maintenance):
        return "REINDEX … CONCURRENTLY"
    if isinstance(command, AlterTable):
        return "DETACH PARTITION … CONCURRENTLY"
    return "This CONCURRENTLY statement"


RULE = Rule(
    id="ban-concurrently-in-transaction",
    default_severity=Severity.ERROR,
    summary="A CONCURRENTLY statement inside BEGIN … COMMIT fails: PostgreSQL refuses it in a transaction",
    family="locks",
    doc=__doc__,
    check=check,
)
