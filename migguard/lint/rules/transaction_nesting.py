"""
## What it does
Flags transaction control that fights the transaction the migration already runs in: an explicit
`BEGIN` / `START TRANSACTION` in a file migguard runs in its own transaction, a `BEGIN` while a
transaction the file opened is still open, and a `COMMIT` / `END` / `ROLLBACK` / `ABORT` /
`PREPARE TRANSACTION` with no `BEGIN` before it in a file migguard runs in a transaction.

## Why it is dangerous
PostgreSQL does not nest transactions. A `BEGIN` inside an open transaction is a no-op that only
raises a WARNING, so the file's `COMMIT` ends the outer transaction — migguard's — early: the
statements after it run outside any transaction, and when one of them fails the migration is left
half applied with no history record, so re-running it fails too. A stray `ROLLBACK` silently undoes
everything the migration did before it and lets the rest run on. migguard runs each migration in
one transaction unless the file contains `CONCURRENTLY` or `assume_in_transaction = false` is set.

## Bad
```sql
BEGIN;
ALTER TABLE accounts ADD COLUMN note text;
COMMIT;
```

## Good
```sql
-- migguard runs the whole file in one transaction.
ALTER TABLE accounts ADD COLUMN note text;
```

## When it does not fire
A `BEGIN … COMMIT` block in a file migguard does not wrap (it contains `CONCURRENTLY`, or the
configuration sets `assume_in_transaction = false` because another runner applies the migrations);
`SAVEPOINT`, `RELEASE` and `ROLLBACK TO SAVEPOINT`; transaction control inside function and `DO`
bodies. A `BEGIN` never committed is ban-uncommitted-transaction's finding.

## References
- https://www.postgresql.org/docs/current/sql-begin.html
- https://www.postgresql.org/docs/current/sql-commit.html
- https://www.postgresql.org/docs/current/tutorial-transactions.html
"""

import re
from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, is_transaction_end, is_transaction_start
from migguard.lint.rule import Rule, Violation
from migguard.sql.parse import Statement
from migguard.sql.shapes import Transaction

_CHAIN = re.compile(r"\band\s+chain\s*$", re.IGNORECASE)
_VERB = re.compile(r"(start\s+transaction|prepare\s+transaction|\w+)", re.IGNORECASE)
_WRAPPED_HINT = (
    "Remove the transaction control from the file: migguard already runs the migration in one transaction. "
    "If another tool applies your migrations without wrapping them, set assume_in_transaction = false."
)


def transaction_event(statement: Statement) -> str | None:
    """begin | end | end_and_chain for a statement that starts or ends the whole transaction, else None."""
    if is_transaction_start(statement):
        return "begin"
    if is_transaction_end(statement):
        return "end_and_chain" if _CHAIN.search(statement.text) else "end"
    if isinstance(statement.command, Transaction) and statement.command.kind == "prepare":
        return "end"  # PREPARE TRANSACTION detaches the transaction from the session
    return None


def verb(statement: Statement) -> str:
    """How the statement starts, e.g. BEGIN, START TRANSACTION, COMMIT, ABORT."""
    match = _VERB.match(statement.text)
    return " ".join(match.group(1).upper().split()) if match else "BEGIN"


def check(context: LintContext) -> Iterator[Violation]:
    runner_open = context.wrapped_by_runner  # migguard's own transaction, until something in the file ends it
    opened: Statement | None = None  # the file's own BEGIN, while its transaction is open
    for statement in context.parsed():
        event = transaction_event(statement)
        if event == "begin":
            if opened is not None:
                yield Violation(
                    statement,
                    f"{verb(statement)} while the transaction opened on line {opened.line} is still open is a no-op "
                    "warning: the first COMMIT ends the outer transaction, so what follows it runs outside the "
                    "transaction it was written for.",
                    "Remove the inner BEGIN (use SAVEPOINT for a nested unit), or COMMIT the first transaction "
                    "before starting the next.",
                )
                continue
            if runner_open:
                yield Violation(
                    statement,
                    f"{verb(statement)} inside migguard's transaction is a no-op warning, and COMMIT ends migguard's "
                    "transaction early: the statements after it are no longer applied, or rolled back, together "
                    "with the rest of the migration and its history record.",
                    _WRAPPED_HINT,
                )
            opened = statement
        elif event is not None:
            if opened is None and runner_open:
                yield Violation(statement, _stray_message(statement), _WRAPPED_HINT)
            if event == "end":
                opened, runner_open = None, False


def _stray_message(statement: Statement) -> str:
    what = verb(statement)
    if what in ("ROLLBACK", "ABORT"):
        return (f"{what} without BEGIN rolls back migguard's transaction: everything the migration did before it "
                "is undone, while the statements after it still run, outside any transaction.")
    return (f"{what} without BEGIN ends migguard's transaction early: the statements after it run outside any "
            "transaction, so a failure there leaves the migration half applied and unrecorded.")


RULE = Rule(
    id="transaction-nesting",
    default_severity=Severity.ERROR,
    summary="BEGIN, COMMIT or ROLLBACK that nests in or ends the migration's transaction",
    family="hygiene",
    doc=__doc__,
    check=check,
)
