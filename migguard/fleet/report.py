"""The fleet's per-target results as Markdown (a CI job summary) and as a plain-text table.

Pure: rows in, text out. `plan --fleet` and `status --fleet` render with it, and so does the
rollout (apply, rollback) for its results: every fleet command shows its targets the same way.
A row names its target, never its URL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Statuses that need a person's attention, shown first in the summary line; any other string is allowed.
ATTENTION = ("failed", "unreachable", "drifted", "refused", "error")


@dataclass(frozen=True)
class ResultRow:
    """One target's outcome: `versions` are the migrations concerned (pending, applied or undone)."""

    name: str
    group: str
    status: str
    versions: tuple[str, ...] = ()
    message: str = ""


def summary_line(rows: Sequence[ResultRow]) -> str:
    """`3 target(s): 2 ok, 1 unreachable`, statuses needing attention first."""
    counts = Counter(row.status for row in rows)
    order = [s for s in ATTENTION if s in counts] + sorted(s for s in counts if s not in ATTENTION)
    return f"{len(rows)} target(s): " + ", ".join(f"{counts[s]} {s}" for s in order) if rows else "0 target(s)"


def render_markdown(rows: Sequence[ResultRow], title: str = "migguard fleet") -> str:
    """A heading, the summary line and one table row per target, in the rows' (rollout) order."""
    lines = [f"## {markdown_cell(title)}", "", f"**{markdown_cell(summary_line(rows))}**", ""]
    if rows:
        lines += ["| Target | Group | Status | Migrations | Details |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {markdown_cell(row.name)} | {markdown_cell(row.group)} | {_status(row.status)} | "
                  f"{markdown_cell(', '.join(row.versions)) or '–'} | {markdown_cell(row.message) or '–'} |" for row in rows]
    return "\n".join(lines) + "\n"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table, columns padded to their widest cell; control characters shown escaped."""
    cells = [[_plain(h) for h in headers]] + [[_plain(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n" for row in cells)


def _status(status: str) -> str:
    return f"**{markdown_cell(status)}**" if status in ATTENTION else markdown_cell(status)


def markdown_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes and markup characters escaped."""
    flat = " ".join(str(text).split())
    for char in ("\\", "|", "*", "_", "`", "<", ">", "[", "]"):
        flat = flat.replace(char, "\\" + char)
    return flat


def _plain(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
