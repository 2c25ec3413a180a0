"""
## What it does
Flags a `BEGIN` / `START TRANSACTION` whose transaction is still open at the end of the file: no
`COMMIT`, `END`, `ROLLBACK`, `ABORT` or `PREPARE TRANSACTION` follows it (`COMMIT AND CHAIN`
immediately opens a new one, so it does not count).

## Why it is dangerous
The file only works when whatever runs it happens to commit afterwards. Run by psql, or by a
migration tool that does not wrap files, the session ends with the transaction open and PostgreSQL
rolls it back: the migration reports success and changes nothing. A tool that keeps the
connection runs its next statements — often its own history bookkeeping — inside this
transaction, which holds every lock the migration took until something commits.

## Bad
```sql
BEGIN;
ALTER TABLE accounts ADD COLUMN note text;
```

## Good
```sql
-- For a runner that does not wrap migrations (assume_in_transaction = false);
-- under migguard's own runner, leave BEGIN and COMMIT out altogether.
BEGIN;
ALTER TABLE accounts ADD COLUMN note text;
COMMIT;
```

## When it does not fire
Files whose every `BEGIN` is matched by a `COMMIT` or `ROLLBACK`, and files without explicit
transaction control. `COMMIT` and `ROLLBACK` inside function and `DO` bodies are not statements of
the file and are not counted. A `BEGIN` inside migguard's own transaction is also reported by
transaction-nesting.

## References
- https://www.postgresql.org/docs/current/sql-begin.html
- https://www.postgresql.org/docs/current/sql-commit.html
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.rule import Rule, Violation
from migguard.lint.rules.transaction_nesting import transaction_event, verb
from migguard.sql.parse import Statement


def check(context: LintContext) -> Iterator[Violation]:
    opened: Statement | None = None
    for statement in context.parsed():
        event = transaction_event(statement)
        if event == "begin" and opened is None:
            opened = statement
        elif event == "end":
            opened = None
    if opened is not None:
        yield Violation(
            opened,
            f"{verb(opened)} opens a transaction that this file never commits or rolls back: run by a tool that does "
            "not commit after the file, its changes are silently rolled back when the session ends, and until then "
            "it holds every lock it took.",
            "Add COMMIT at the end of the file, or remove the BEGIN and let migguard's transaction wrap the file.",
        )


RULE = Rule(
    id="ban-uncommitted-transaction",
    default_severity=Severity.ERROR,
    summary="BEGIN without a matching COMMIT or ROLLBACK by the end of the file",
    family="hygiene",
    doc=__doc__,
    check=check,
    kinds=frozenset({"TransactionStmt"}),
)
