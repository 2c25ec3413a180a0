"""The JSON contract of SPEC section 9: version, ok, command, findings, summary.

The text is `json.dumps(document, indent=2, ensure_ascii=False)` exactly, but built faster: with an
indent, the standard library falls back to its pure-Python encoder (about a second for the 15,000
findings of a large lint). A finding is a flat object of scalars, so each is encoded by the C encoder
with the newline and indentation in its item separator, and spliced into the indented envelope.
"""

from __future__ import annotations

import json

from migguard.core.findings import Finding, Report

SCHEMA_VERSION = 1

# A finding sits at depth 2 of the document: its keys are indented by 6 spaces, its braces by 4.
_FINDING = json.JSONEncoder(ensure_ascii=False, separators=(",\n      ", ": "))
_EMPTY_FINDINGS = '"findings": []'


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
    findings = ",\n    ".join(_finding(f) for f in report.findings)
    return envelope.replace(_EMPTY_FINDINGS, f'"findings": [\n    {findings}\n  ]', 1)


def _finding(finding: Finding) -> str:
    """One finding as the indented encoder writes it inside the findings list.

    Its fields, in declaration order, are scalars (a Severity is a str): what model_dump(mode="json")
    gives, without building that copy of every finding."""
    flat = _FINDING.encode(vars(finding))
    return "{\n      " + flat[1:-1] + "\n    }"
