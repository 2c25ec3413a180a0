"""`migguard status`: applied, pending, edited and missing migrations, part-way runs and drift."""

from __future__ import annotations

import json

from migguard.drift.results import Status


def render_json(status: Status) -> str:
    return json.dumps({"version": 1, "ok": status.ok, "command": "status", "target": status.target,
                       "applied": status.applied, "pending": status.pending, "edited": status.edited,
                       "missing": status.missing, "drift": [c.describe() for c in status.drift],
                       "part_way": [{"version": p.version, "done": p.done, "total": p.total,
                                     "last_failure": p.last_failure} for p in status.part_way],
                       "part_way_edited": status.part_way_edited}, indent=2) + "\n"


def render_text(status: Status) -> str:
    """One line a fact, labelled; "drift: none" only when drift was checked and there is none."""
    lines = [f"production: {status.target}",
             f"applied:  {len(status.applied)}" + (f" (last {status.applied[-1]})" if status.applied else ""),
             f"pending:  {len(status.pending)}" + (f" ({', '.join(status.pending)})" if status.pending else "")]
    lines += [f"edited:   {version} changed after it was applied (checksum mismatch)" for version in status.edited]
    lines += [f"missing:  {version} is applied in production but has no file" for version in status.missing]
    lines += [f"part way: {part.describe()}" for part in status.part_way]
    lines += [f"part way: {message}" for message in status.part_way_edited]
    lines += [f"drift:    {change.describe()}" for change in status.drift]
    if status.drift_checked and not status.drift:
        lines.append("drift:    none")
    return "".join(line + "\n" for line in lines)
