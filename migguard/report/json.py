"""The JSON contract of SPEC section 9: version, ok, command, findings, summary.

The text is `json.dumps(document, indent=2, ensure_ascii=False)` exactly, but built faster: with an
indent, the standard library falls back to its pure-Python encoder (about a second for the 15,000
findings of a large lint). A finding is a flat object of scalars, so each is written by one format
string, its strings escaped by the standard library's C string encoder (each distinct rule, path
and hint once), and the findings are spliced into the indented envelope. tests/report/test_json.py
compares the text with json.dumps, escapes and nulls included.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C escaper json.dumps(ensure_ascii=False) uses

from migguard.core.findings import Finding, Report, Severity

SCHEMA_VERSION = 1

_EMPTY_FINDINGS = '"findings": []'
_SEVERITIES = {severity: encode_basestring(severity.value) for severity in Severity}  # an enum's .value is slow


def render(report: Report) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "ok": report.ok,
        "command": report.command,
        "findings": [],
        "summary": report.summary,
    }
    envelope = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if not report.findings:
        return envelope
    escaped = _Escaped()
    head, tail = envelope.split(_EMPTY_FINDINGS, 1)  # the summary comes after the findings
    parts = [head, '"findings": [\n    ']
    for finding in report.findings:
        parts += (_finding(finding, escaped), ",\n    ")
    parts[-1] = "\n  ]"
    parts.append(tail)
    return "".join(parts)  # one copy of the long text, not two


class _Escaped(dict):
    """The JSON form of each string that repeats (a rule, a path, a hint), made on first use."""

    def __missing__(self, value: str) -> str:
        text = self[value] = encode_basestring(value)
        return text


def _finding(finding: Finding, escaped: _Escaped) -> str:
    """One finding as the indented encoder writes it inside the findings list (keys in field order)."""
    statement = "null" if finding.statement is None else finding.statement
    hint = "null" if finding.hint is None else escaped[finding.hint]
    return (f'{{\n      "rule": {escaped[finding.rule]},\n      "severity": {_SEVERITIES[finding.severity]},\n'
            f'      "path": {escaped[finding.path]},\n      "line": {finding.line},\n'
            f'      "column": {finding.column},\n      "end_line": {finding.end_line},\n'
            f'      "end_column": {finding.end_column},\n      "statement": {statement},\n'
            f'      "message": {encode_basestring(finding.message)},\n      "hint": {hint}\n    }}')
