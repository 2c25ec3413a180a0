"""PostgreSQL durations (`2s`, `15min`, `500`): parsed and checked without a server.

A duration from the config reaches production as the value of `lock_timeout` or
`statement_timeout`; it is checked when the config loads, so anything but a number and a unit
is refused before any connection (the observation: `2s'; DELETE FROM moods; SELECT '`).
"""

from __future__ import annotations

import math
import re

# Units PostgreSQL accepts for time settings whose base unit is milliseconds (case-sensitive).
_UNITS_MS = {"ms": 1, "s": 1_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*")
_INT_MAX = 2**31 - 1  # the largest value a millisecond setting holds


def parse_duration(text: str) -> int:
    """Milliseconds of a PostgreSQL duration: a number and an optional unit (ms, s, min, h, d;
    none means ms), greater than zero once rounded to whole milliseconds as PostgreSQL rounds
    it (zero would switch the timeout off). ValueError with the reason otherwise."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("expected a PostgreSQL duration: a number and a unit (ms, s, min, h, d), e.g. 2s or 15min")
    number, unit = match.groups()
    milliseconds = math.floor(float(number) * _UNITS_MS[unit or "ms"] + 0.5)
    if milliseconds <= 0:
        raise ValueError("must be greater than zero (0 switches the timeout off)")
    if milliseconds > _INT_MAX:
        raise ValueError(f"at most {_INT_MAX} ms (about 24 days), PostgreSQL's limit")
    return milliseconds
