"""What a rule is, and what its check yields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migguard.core.findings import Severity

if TYPE_CHECKING:
    from migguard.lint.context import LintContext
    from migguard.sql.parse import Statement

FAMILIES = ("destructive", "locks", "compatibility", "tenancy", "hygiene", "workflow", "meta")


@dataclass(frozen=True, slots=True)
class Violation:
    """A problem a check found. Path, configured severity and ignores are added by lint/engine.py."""

    statement: Statement
    message: str  # what is wrong and why, naming the object
    hint: str  # the safe alternative, in the imperative
    offset: int = 0  # where in the statement text the offending clause starts (see migguard.sql.locate)
    new_object: bool = False  # the object was created earlier in this migration: severity drops to info


Check = Callable[["LintContext"], Iterator[Violation]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule: id, default severity, one-line summary, docs (the module docstring) and check."""

    id: str
    default_severity: Severity
    summary: str
    family: str
    doc: str
    check: Check | None  # None for findings produced by lint itself (syntax-error, unused-ignore, …)
    destructive: bool = False
    # PostgreSQL node kinds ("AlterTableStmt", …) of the statements the check judges: the engine hands it
    # only those through `context.parsed()` (ruff's dispatch). None: every statement.
    kinds: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"rule {self.id}: unknown family {self.family!r}")

