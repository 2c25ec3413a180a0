"""Compiler-style text: `path:line:col: severity[rule] message`, the SQL line, a caret, the hint."""

from __future__ import annotations

from migguard.findings import Finding, Report


def render(report: Report) -> str:
    blocks = [_block(finding, report.sources.get(finding.path)) for finding in report.findings]
    return "".join(blocks)


def _block(finding: Finding, source: str | None) -> str:
    lines = [f"{finding.path}:{finding.line}:{finding.column}: {finding.severity.value}[{finding.rule}] {finding.message}"]
    sql_line = _line(source, finding.line)
    if sql_line is not None:
        number = str(finding.line)
        gutter = " " * len(number)
        expanded = sql_line.expandtabs(4)
        caret_at = len(sql_line[: finding.column - 1].expandtabs(4))
        lines.append(f" {gutter} |")
        lines.append(f" {number} | {expanded}")
        lines.append(f" {gutter} | {' ' * caret_at}^")
    if finding.hint:
        lines.append(f"  = hint: {finding.hint}")
    return "\n".join(lines) + "\n\n"


def _line(source: str | None, number: int) -> str | None:
    if source is None:
        return None
    lines = source.splitlines()
    return lines[number - 1].rstrip() if 0 < number <= len(lines) else None
