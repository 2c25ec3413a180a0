"""SARIF 2.1.0 for code-scanning upload: one run, rule metadata with help, 1-based regions.

The rule metadata of every id (lint, plan, rls check, scan-app) comes from the one registry of finding
ids (`migguard.core.finding_ids`).

Pure: no timestamps, no absolute paths, no machine facts; the same report gives the same bytes.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from migguard import __version__
from migguard.core.finding_ids import FindingKind, finding_kind
from migguard.core.findings import Finding, Report, Severity

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://pypi.org/project/migguard/"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

# Characters kept as they are in an artifact URI; everything else is percent-encoded (UTF-8).
_URI_SAFE = "/-._~!$&'()*+,;=@"


def render(report: Report) -> str:
    rule_ids = sorted({finding.rule for finding in report.findings})
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    run = {
        "tool": {
            "driver": {
                "name": "migguard",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_descriptor(rule_id) for rule_id in rule_ids],
            }
        },
        # Finding columns count characters (code points), not UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, index[finding.rule]) for finding in report.findings],
    }
    document = {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def message_text(finding: Finding) -> str:
    """The message, then the hint on its own line."""
    return f"{finding.message}\nHint: {finding.hint}" if finding.hint else finding.message


def artifact_uri(path: str) -> str:
    """The path as given, as a relative URI reference (spaces, '%', '#', '?', non-ASCII encoded)."""
    return quote(path, safe=_URI_SAFE)


def _descriptor(rule_id: str) -> dict:
    rule = finding_kind(rule_id)
    if rule is None:  # a finding from a rule this build does not know: still a valid descriptor
        return {"id": rule_id, "name": _name(rule_id), "shortDescription": {"text": rule_id}}
    doc = rule.doc.strip()
    return {
        "id": rule.id,
        "name": _name(rule.id),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _section(doc, "What it does") or rule.summary},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": LEVELS[rule.default_severity]},
        "properties": {"tags": _tags(rule)},
    }


def _result(finding: Finding, rule_index: int) -> dict:
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": message_text(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding.path)},
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line,
                        "endColumn": finding.end_column,
                    },
                }
            }
        ],
    }


def _name(rule_id: str) -> str:
    """SARIF's rule name: the id in PascalCase (ban-drop-column → BanDropColumn)."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", rule_id))


def _tags(rule: FindingKind) -> list[str]:
    tags = [rule.family]
    if rule.destructive and "destructive" not in tags:
        tags.append("destructive")
    return tags


def _section(doc: str, title: str) -> str | None:
    """The text of one `## title` section of a rule's docs, whitespace folded."""
    match = re.search(rf"^##\s+{re.escape(title)}\s*$(.*?)(?=^##\s|\Z)", doc, re.MULTILINE | re.DOTALL)
    if match is None:
        return None
    text = " ".join(match.group(1).split())
    return text or None
