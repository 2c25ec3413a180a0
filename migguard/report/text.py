"""Compiler-style text: `path:line:col: severity[rule] message`, the SQL line, a caret, the hint."""

from __future__ import annotations

from migguard.core.findings import Finding, Report


def render(report: Report) -> str:
    lines: dict[str, list[str] | None] = {}  # each source split once, not once per finding
    for path in {finding.path for finding in report.findings}:
        source = report.sources.get(path)
        lines[path] = None if source is None else source.splitlines()
    blocks = [_block(finding, lines[finding.path]) for finding in report.findings]
    plan = report.summary.get("plan")
    if isinstance(plan, dict):
        blocks.append(_plan(plan))
    return "".join(blocks)


def _plan(plan: dict) -> str:
    """The plan summary: what will change, what is lossy, whether the rollback was verified."""
    lines = [f"plan {str(plan.get('fingerprint', ''))[:12]} against {plan.get('target')}: "
             f"{plan.get('applied', 0)} applied, {len(plan.get('pending', []))} pending "
             f"({', '.join(plan.get('pending', [])) or 'none'})"]
    for change in plan.get("changes", []):
        lines.append(f"  {change}")
    for drift in plan.get("drift", []):
        lines.append(f"  drift: {drift}")
    verified = "verified on the shadow" if plan.get("rollback_verified") else "NOT verified"
    lines.append(f"rollback: {verified}" + (f"; cannot reverse: {', '.join(plan['irreversible'])}"
                                             if plan.get("irreversible") else ""))
    if plan.get("lossy"):
        lines.append(f"lossy (data only comes back from the backup): {', '.join(plan['lossy'])}")
    if plan.get("directory"):
        lines.append(f"written to {plan['directory']}")
    return "\n".join(lines) + "\n"


def _block(finding: Finding, source: list[str] | None) -> str:
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
        first, *rest = finding.hint.splitlines() or [""]
        lines.append(f"  = hint: {first}")
        lines.extend(f"          {line}".rstrip() for line in rest)  # under the hint's first word
    return "\n".join(lines) + "\n\n"


def _line(lines: list[str] | None, number: int) -> str | None:
    if lines is None:
        return None
    return lines[number - 1].rstrip() if 0 < number <= len(lines) else None
