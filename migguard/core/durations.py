"""PostgreSQL durations (`2s`, `15min`, `500`): parsed and checked without a server.

A duration from the config reaches production as the value of `lock_timeout` or
`statement_timeout`; it is checked when the config loads, so anything but a number and a unit
is refused before any connection (the observation: `2s'; DELETE FROM moods; SELECT '`).
"""

from __future__ import annotations

import re

# The config's form: a number and an optional unit, nothing PostgreSQL would read otherwise.
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*")
_INT_MAX = 2**31 - 1
# Time units of an integer parameter whose base unit is milliseconds (guc.c, memory_unit_conversion_table).
_UNIT_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
# strtol(value, &end, 0): hexadecimal, octal or decimal; then strtod when it stops at '.', 'e' or 'E'.
_STRTOL = re.compile(r"\s*(?P<sign>[+-]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|(?P<octal>0[0-7]*)|(?P<decimal>[1-9][0-9]*))")
_STRTOD = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_duration(text: str) -> int:
    """Milliseconds of a PostgreSQL duration: a number and an optional unit (ms, s, min, h, d;
    none means ms), greater than zero once rounded to whole milliseconds as PostgreSQL rounds
    it (half to even: '0.5ms' is 0, which would switch the timeout off). ValueError with the reason
    otherwise."""
    if not isinstance(text, str) or _DURATION.fullmatch(text) is None:
        raise ValueError("expected a PostgreSQL duration: a number and a unit (ms, s, min, h, d), e.g. 2s or 15min")
    milliseconds = duration_ms(text.strip())
    if milliseconds is None:
        raise ValueError(f"PostgreSQL would refuse it: at most {_INT_MAX} ms (about 24 days), and a number "
                         "with a leading 0 is octal")
    if milliseconds <= 0:
        raise ValueError("must be greater than zero (0 switches the timeout off)")
    return milliseconds


def duration_ms(value: str) -> int | None:
    """A lock_timeout / statement_timeout value in milliseconds, parsed as PostgreSQL's parse_int does
    (a bare number is milliseconds; units us, ms, s, min, h, d, case-sensitive; fractions rounded);
    None for a value PostgreSQL would refuse (no number, unknown unit, negative, above INT_MAX)."""
    match = _STRTOL.match(value)
    if match is None or value[match.end():match.end() + 1] in (".", "e", "E"):
        match = _STRTOD.match(value)
        if match is None:
            return None
        number = float(match.group())
    else:
        if match["hex"] is not None:
            digits = int(match["hex"], 16)
        elif match["decimal"] is not None:
            digits = int(match["decimal"])
        else:
            digits = int(match["octal"], 8)
        number = float(-digits if match["sign"] == "-" else digits)
    unit = value[match.end():].strip()
    if unit:
        if unit not in _UNIT_MS:
            return None
        number *= _UNIT_MS[unit]
    ms = round(number)  # rint(): halves to even, as Python's round
    return ms if 0 <= ms <= _INT_MAX else None
