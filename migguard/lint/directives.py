"""`-- migguard:ignore RULE[, RULE] -- reason` and `-- migguard:ignore-file RULE` comments.

An ignore on its own line applies to the next statement; one on a statement's first line
applies to that statement. A reason (after a second `--`) is required to silence a
destructive rule. Ids that match no rule, and ignores that silence nothing, are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"--\s*migguard:(?P<kind>ignore-file|ignore)\b(?P<rest>.*)$", re.IGNORECASE)
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class Directive:
    line: int  # 1-based line of the comment
    column: int
    rules: tuple[str, ...]
    reason: str | None
    file_level: bool


def find_directives(text: str) -> list[Directive]:
    """Every migguard directive comment in `text`, in order."""
    if "migguard:" not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        ids_part, _, reason = match["rest"].partition("--")
        rules = tuple(_RULE_ID.findall(ids_part.lower()))
        found.append(
            Directive(number, match.start() + 1, rules, reason.strip() or None, match["kind"].lower() == "ignore-file")
        )
    return found


def target_statements(directive: Directive, statement_lines: list[tuple[int, int]]) -> tuple[int, ...]:
    """Indexes of the statements a line directive applies to, given (first line, last line) of each.

    A directive on a line a statement occupies (its first line, a trailing comment after its
    ';', or a comment inside it) applies to that statement, and to every statement on that
    line; otherwise to the next statement that starts after the directive.
    """
    same_line = tuple(
        index for index, (first, last) in enumerate(statement_lines) if first <= directive.line <= last
    )
    if same_line:
        return same_line
    for index, (first, _last) in enumerate(statement_lines):
        if first > directive.line:
            return (index,)
    return ()
