"""`migguard diff`: the changes from one schema to another, as commented SQL (text), JSON, or SQL only."""

from __future__ import annotations

import json

from migguard.drift.results import Comparison


def render_sql(comparison: Comparison) -> str:
    """Only the SQL that turns FROM into TO (--sql)."""
    return comparison.forward_sql


def render_json(comparison: Comparison) -> str:
    return json.dumps({"version": 1, "command": "diff", "from": comparison.source, "to": comparison.target,
                       "changes": [{"kind": c.kind, "object": c.object, "forward": c.forward,
                                    "reverse": c.reverse, "destructive": c.destructive, "lossy": c.lossy,
                                    "lock": c.lock, "hazards": list(c.hazards), "concurrently": c.concurrently,
                                    "validation": c.validation, "details": list(c.details)}
                                   for c in comparison.changes]}, indent=2) + "\n"


def render_text(comparison: Comparison) -> str:
    """A comment line a change (with the lock it takes and its hazards), then the SQL."""
    lines = [f"-- {len(comparison.changes)} change(s) from {comparison.source} to {comparison.target}"]
    lines += [f"-- {change.describe()}" + (f" [{change.lock}]" if change.lock else "")
              + (f" hazards: {', '.join(change.hazards)}" if change.hazards else "") for change in comparison.changes]
    return "".join(line + "\n" for line in lines) + comparison.forward_sql
