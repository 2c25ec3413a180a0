"""The result `migguard query` returns: plain data, rendered by migguard/report/query.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QueryResult:
    """The rows `migguard query` read, and where from (report/query.py renders them)."""

    source: str  # "playbook NAME" or "sandbox"
    target: str  # redacted production URL
    tenant: str | None
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool  # more rows than --limit existed

    @property
    def row_count(self) -> int:
        return len(self.rows)
