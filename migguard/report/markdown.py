"""A pull-request comment (also the GitHub job summary): verdict first, a table of findings,
then the summary and, for `plan`, the plan."""

from __future__ import annotations

import re

from migguard.core.findings import Finding, Report, Severity

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def render(report: Report) -> str:
    parts = [_verdict(report), _findings(report.findings), _summary(report.summary)]
    if "plan" in report.summary:
        parts.append(_plan(report.summary["plan"]))
    return "\n\n".join(part for part in parts if part) + "\n"


def escape(text: str) -> str:
    """Inline Markdown text that stays one table cell: punctuation escaped, newlines as <br>."""
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _verdict(report: Report) -> str:
    icon, verdict = ("✅", "gate passes") if report.ok else ("❌", "gate refused")
    counts = [
        _count(report.count(Severity.ERROR), "error", "errors"),
        _count(report.count(Severity.WARNING), "warning", "warnings"),
        _count(report.count(Severity.INFO), "info", "info"),
    ]
    files = report.summary.get("files")
    where = f" in {_count(files, 'file', 'files')}" if isinstance(files, int) else ""
    return f"## {icon} migguard {escape(report.command)}: {verdict} ({', '.join(counts)}{where})"


def _findings(findings: tuple[Finding, ...]) -> str:
    if not findings:
        return "No findings."
    rows = ["| Severity | Rule | Location | Message | Hint |", "|---|---|---|---|---|"]
    for f in findings:
        location = escape(f"{f.path}:{f.line}")
        rows.append(f"| {f.severity.value} | `{f.rule}` | {location} | {escape(f.message)} | {escape(f.hint or '')} |")
    return "\n".join(rows)


def _summary(summary: dict) -> str:
    items = [f"- {escape(key)}: {_value(value)}" for key, value in summary.items() if key != "plan"]
    return "\n".join(["### Summary", "", *items]) if items else ""


def _plan(plan: object) -> str:
    if isinstance(plan, list):
        body = "\n".join(f"- {escape(str(item))}" for item in plan) or "No changes."
    elif isinstance(plan, dict):
        body = "\n".join(f"- {escape(str(key))}: {_value(value)}" for key, value in plan.items()) or "No changes."
    else:
        body = escape(str(plan))
    return f"### Plan\n\n{body}"


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(escape(str(item)) for item in value) or "none"
    return escape(str(value))


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
