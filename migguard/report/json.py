"""The JSON contract of SPEC section 9: version, ok, command, findings, summary."""

from __future__ import annotations

import json

from migguard.core.findings import Report

SCHEMA_VERSION = 1


def render(report: Report) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "ok": report.ok,
        "command": report.command,
        "findings": [f.model_dump(mode="json") for f in report.findings],
        "summary": report.summary,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
