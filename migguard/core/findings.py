"""The output contract: Severity, Finding and the report every renderer consumes."""

from __future__ import annotations

from enum import StrEnum
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Finding(BaseModel):
    """One problem at one place; lines and columns are 1-based."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    statement: int | None = Field(default=None, description="0-based index of the statement in its file")
    message: str
    hint: str | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)


# Finding.sort_key as one C call, for sorting many findings.
SORT_KEY = attrgetter("path", "line", "column", "rule")


class Report(BaseModel):
    """What a command found; `ok` is whether the gate passes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    ok: bool
    findings: tuple[Finding, ...] = ()
    summary: dict[str, Any] = Field(default_factory=dict)  # counts; `plan` adds a nested plan summary
    # path -> file text, for renderers that quote the offending line; never serialised.
    sources: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)
