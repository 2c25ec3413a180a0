"""
## What it does
Flags transaction control that fights the transaction the migration already runs in: a `BEGIN` /
`START TRANSACTION` inside migguard's transaction, a `BEGIN` while a transaction the file opened is
still open, a `COMMIT` / `END` / `ROLLBACK` / `ABORT` / `PREPARE TRANSACTION` that ends migguard's
transaction part way through the file, and a `RELEASE` or `ROLLBACK TO` a savepoint the file never set.

## Why it is dangerous
PostgreSQL does not nest transactions. A `BEGIN` inside an open transaction is a no-op that only
raises a WARNING, so the file's `COMMIT` ends the outer transaction — migguard's — early: the
statements after it run outside any transaction, and when one of them fails the migration is left
half applied with no history record, so re-running it fails too. A stray `ROLLBACK` silently undoes
everything the migration did before it and lets the rest run on. A `RELEASE` or `ROLLBACK TO` of a
savepoint that does not exist fails the migration. migguard runs each migration in one transaction
unless the file contains `CONCURRENTLY` or `assume_in_transaction = false` is set.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN note text;
COMMIT;
ALTER TABLE accounts ADD COLUMN label text;
```

## Good
```sql
-- The whole file in one plain BEGIN … COMMIT: migguard runs the body in its own transaction.
BEGIN;
ALTER TABLE accounts ADD COLUMN note text;
ALTER TABLE accounts ADD COLUMN label text;
COMMIT;
```

## When it does not fire
A file wrapped whole in a plain `BEGIN; … COMMIT;` (first and last statement, nothing between them
that starts or ends a transaction): migguard runs its body inside its own transaction, so the
wrapper nests nothing. A wrapper with transaction modes (`BEGIN ISOLATION LEVEL …`, `READ ONLY`) or
`COMMIT AND CHAIN` is not plain: it asks for something migguard's transaction does not give, and is
flagged. A `BEGIN … COMMIT` block in a file migguard does not wrap (the configuration sets
`assume_in_transaction = false` because another runner applies the migrations, or the file contains
`CONCURRENTLY`: a `CONCURRENTLY` statement inside such a block, wrapper or not, is
ban-concurrently-in-transaction's error, since it cannot run in a transaction); `SAVEPOINT`, and
`RELEASE` / `ROLLBACK TO` a savepoint set earlier; transaction control inside function and `DO`
bodies. A `BEGIN` never committed is ban-uncommitted-transaction's finding.

## References
- https://www.postgresql.org/docs/current/sql-begin.html
- https://www.postgresql.org/docs/current/sql-commit.html
- https://www.postgresql.org/docs/current/sql-savepoint.html
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
# SAVEPOINT s / RELEASE [SAVEPOINT] s / ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] s: the verb and the name.
_SAVEPOINT = re.compile(r'(savepoint|release(?:\s+savepoint)?|rollback(?:\s+(?:work|transaction))?\s+to'
                        r'(?:\s+savepoint)?)\s+("(?:[^"]|"")+"|[^\s;]+)\s*$', re.IGNORECASE)
_WRAPPED_HINT = (
    "Remove the transaction control from the file: migguard already runs the migration in one transaction "
    "(a file wrapped whole in one plain BEGIN; … COMMIT; is fine). "
    "If another tool applies your migrations without wrapping them, set assume_in_transaction = false."
)


def transaction_event(statement: Statement) -> str | None:
    """begin | end | end_and_chain for a statement that starts or ends the whole transaction, else None."""
    if is_transaction_start(statement):
        return "begin"
    if is_transaction_end(statement):
        return "end_and_chain" if _CHAIN.search(statement.text) else "end"
    if statement.node_kind == "TransactionStmt" and isinstance(statement.command, Transaction) \
            and statement.command.kind == "prepare":
        return "end"  # PREPARE TRANSACTION detaches the transaction from the session
    return None


def verb(statement: Statement) -> str:
    """How the statement starts, e.g. BEGIN, START TRANSACTION, COMMIT, ABORT."""
    match = _VERB.match(statement.text)
    return " ".join(match.group(1).upper().split()) if match else "BEGIN"


def savepoint(statement: Statement) -> tuple[str, str] | None:
    """(set | release | rollback_to, name) for SAVEPOINT, RELEASE and ROLLBACK TO; else None."""
    match = _SAVEPOINT.match(statement.text.strip())
    if match is None:
        return None
    word = match.group(1).split()[0].lower()
    name = match.group(2)
    name = name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
    return {"savepoint": "set", "release": "release"}.get(word, "rollback_to"), name


def check(context: LintContext) -> Iterator[Violation]:
    statements = [s for s in context.parsed() if s.origin is None]
    wrapper = context.wrapper if context.wrapped_by_runner else None
    if wrapper is not None:  # the body runs in migguard's transaction: the wrapper itself nests nothing
        statements = [s for s in statements if s is not wrapper.begin and s is not wrapper.commit]
    yield from _nesting(context, statements)
    yield from _savepoints(context, statements)


def _nesting(context: LintContext, statements: list[Statement]) -> Iterator[Violation]:
    runner_open = context.wrapped_by_runner  # migguard's own transaction, until something in the file ends it
    opened: Statement | None = None  # the file's own BEGIN, while its transaction is open
    for statement in statements:
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


def _savepoints(context: LintContext, statements: list[Statement]) -> Iterator[Violation]:
    """RELEASE / ROLLBACK TO a savepoint that was never set (or is gone) fails the migration."""
    names: list[str] = []  # the savepoints in force, oldest first
    for statement in statements:
        if transaction_event(statement) is not None:
            names.clear()  # a transaction starts or ends: no savepoint survives it
            continue
        found = savepoint(statement)
        if found is None:
            continue
        action, name = found
        if action == "set":
            names.append(name)
        elif name not in names:
            yield Violation(
                statement,
                f"{verb(statement)} names savepoint {name}, which is not set at this point of the file: PostgreSQL "
                "fails the statement (\"savepoint does not exist\"), and with it the migration.",
                "Set the savepoint with SAVEPOINT in the same transaction before releasing or rolling back to it, "
                "or remove the statement.",
            )
        else:
            del names[names.index(name) + (action == "rollback_to"):]  # ROLLBACK TO keeps the savepoint itself


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
    kinds=frozenset({"TransactionStmt"})  # BEGIN, COMMIT, SAVEPOINT, RELEASE, ROLLBACK TO, PREPARE TRANSACTION,
)
