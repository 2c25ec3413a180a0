"""GitHub Actions workflow commands: one `::error file=…,line=…,title=RULE::message` line per finding.

The job summary (Markdown, when GITHUB_STEP_SUMMARY is set) is written by the CLI, not here.
"""

from __future__ import annotations

from migguard.core.findings import Finding, Report, Severity

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: Report) -> str:
    return "".join(_command(finding) + "\n" for finding in report.findings)


def escape_data(value: str) -> str:
    """The message part of a workflow command (actions/toolkit `escapeData`)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A `key=value` property of a workflow command (actions/toolkit `escapeProperty`)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(finding: Finding) -> str:
    properties = [("file", finding.path), ("line", str(finding.line))]
    # GitHub accepts columns only on a one-line annotation.
    if finding.end_line == finding.line:
        properties.append(("col", str(finding.column)))
    properties.append(("endLine", str(finding.end_line)))
    if finding.end_line == finding.line:
        properties.append(("endColumn", str(finding.end_column)))
    properties.append(("title", finding.rule))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = f"{finding.message}\nHint: {finding.hint}" if finding.hint else finding.message
    return f"::{COMMANDS[finding.severity]} {rendered}::{escape_data(message)}"
