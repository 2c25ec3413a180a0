"""Transaction control written in a migration file, and the whole-file `BEGIN; … COMMIT;` wrapper.

Hand-written migrations are often wrapped whole in `BEGIN; … COMMIT;`. migguard runs every
migration in a transaction of its own, so such a wrapper is redundant rather than wrong: the
shadow replay and the live runner run the body inside migguard's transaction (the BEGIN and the
COMMIT keep their statement numbers, they just do not run), and lint reads the file as one
transaction. Only a plain wrapper counts: a BEGIN with transaction modes (isolation level, read
only, …) or a COMMIT AND CHAIN asks for something migguard's transaction does not give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import Transaction

_PLAIN_BEGIN = re.compile(r"(begin|start\s+transaction)(\s+(work|transaction))?", re.IGNORECASE)
_PLAIN_COMMIT = re.compile(r"(commit|end)(\s+(work|transaction))?", re.IGNORECASE)


def is_transaction_start(statement: Statement) -> bool:
    """BEGIN / START TRANSACTION (not SAVEPOINT)."""
    if statement.node_kind != "TransactionStmt":  # PostgreSQL's kind answers first, without sqlglot
        return False
    if isinstance(statement.command, Transaction):
        return statement.command.kind in ("begin", "start")
    return isinstance(statement.ast, exp.Transaction)


def is_transaction_end(statement: Statement) -> bool:
    """COMMIT / END / ROLLBACK of the whole transaction (not ROLLBACK TO SAVEPOINT)."""
    if statement.node_kind != "TransactionStmt":  # PostgreSQL's kind answers first, without sqlglot
        return False
    if isinstance(statement.command, Transaction):
        return statement.command.kind in ("commit", "rollback")
    if isinstance(statement.ast, exp.Rollback):
        return not statement.ast.args.get("savepoint")
    return isinstance(statement.ast, exp.Commit)


def controls_transaction(statement: Statement) -> bool:
    """Does the statement start, end or detach the session's transaction (PREPARE TRANSACTION, COMMIT PREPARED
    and ROLLBACK PREPARED included)? Savepoints do not: they nest inside whatever transaction is open."""
    if is_transaction_start(statement) or is_transaction_end(statement):
        return True
    command = statement.command if statement.node_kind == "TransactionStmt" else None
    return isinstance(command, Transaction) and command.kind in ("prepare", "commit_prepared", "rollback_prepared")


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A whole-file `BEGIN; … COMMIT;`: the two statements and the body between them."""

    begin: Statement
    commit: Statement
    body: tuple[Statement, ...]

    def body_text(self, text: str) -> str:
        """The file's own bytes from the first body statement to the COMMIT (comments and `;` kept); empty
        when the body is."""
        return text[self.body[0].start:self.commit.start] if self.body else ""


def whole_file_wrapper(statements: Sequence[Statement]) -> Wrapper | None:
    """The file's wrapper when its first statement is a plain BEGIN / START TRANSACTION, its last a plain COMMIT /
    END, and no statement between them starts, ends or detaches a transaction; else None."""
    top = [s for s in statements if s.origin is None]
    if len(top) < 2 or any(s.syntax_error is not None for s in (top[0], top[-1])):
        return None
    begin, commit, body = top[0], top[-1], tuple(top[1:-1])
    if not (is_transaction_start(begin) and _PLAIN_BEGIN.fullmatch(begin.text.strip())):
        return None
    if not (is_transaction_end(commit) and _PLAIN_COMMIT.fullmatch(commit.text.strip())):
        return None
    if any(controls_transaction(s) for s in body):
        return None
    return Wrapper(begin, commit, body)


def transaction_text(text: str, statements: Sequence[Statement] | None = None) -> str:
    """What runs inside migguard's own transaction: the file's text, or, for a file wrapped whole in a plain
    `BEGIN; … COMMIT;`, the bytes between the two (the wrapper would end migguard's transaction early)."""
    from migguard.sql.parse import parse_file

    wrapper = whole_file_wrapper(parse_file(text).statements if statements is None else statements)
    return text if wrapper is None else wrapper.body_text(text)
