"""`migguard rules`: the documented finding ids as a table (text) or a list (json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol

from migguard.core.findings import Severity


class RuleInfo(Protocol):
    """What the listing shows of a finding id, whichever registry it comes from."""

    id: str
    default_severity: Severity
    family: str
    destructive: bool
    summary: str


def render_json(rules: Sequence[RuleInfo]) -> str:
    return json.dumps([{"id": r.id, "severity": r.default_severity.value, "family": r.family,
                        "destructive": r.destructive, "summary": r.summary} for r in rules], indent=2) + "\n"


def render_text(rules: Sequence[RuleInfo]) -> str:
    """One line a rule: id, severity and family in aligned columns, then the summary."""
    width = max(len(r.id) for r in rules)
    return "".join(f"{rule.id:<{width}}  {rule.default_severity.value:<7}  {rule.family:<13}  {rule.summary}\n"
                   for rule in rules)
