"""Where a clause starts in a statement's text, so a finding points at the offending clause."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migguard.sql.parse import Statement


def at(statement: Statement, pattern: str) -> int:
    """Offset in `statement.text` of the first match of `pattern` (case-insensitive), else 0."""
    match = _compiled(pattern).search(statement.text)
    return match.start() if match else 0


@functools.lru_cache(maxsize=8192)
def _compiled(pattern: str) -> re.Pattern[str]:
    """Patterns name columns and tables, so there are thousands: more than `re`'s own cache keeps."""
    return re.compile(pattern, re.IGNORECASE)
