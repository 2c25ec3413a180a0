"""migguard's own rules on the SQL migguard generates (a plan's rollback.sql, `diff --sql`).

A generated script that takes the locks the lint refuses in a migration is reported, not hidden:
one `generated-sql-unsafe` finding per error of a rule that is not of the destructive family (a
rollback drops what its migration created by nature; `migguard rollback` gates that itself, with
the backup and `--allow-destructive`). The finding points at the script's line and names the rule.
"""

from __future__ import annotations

from migguard.core.finding_ids import finding_kind
from migguard.core.findings import Finding, Severity
from migguard.lint.context import LintSettings
from migguard.lint.engine import RulePolicy, lint_text


def generated_sql_findings(path: str, text: str, settings: LintSettings, policy: RulePolicy, *, rule: str,
                           severity: Severity = Severity.WARNING) -> list[Finding]:
    """The lint errors of generated script `text` (named `path`), each as a finding `rule` (the
    caller's documented id: the plan's is `generated-sql-unsafe`) at its line, its message naming
    the lint rule that found it."""
    findings = []
    for found in lint_text(path, text, settings, policy):
        kind = finding_kind(found.rule)
        if found.severity != Severity.ERROR or (kind is not None and kind.destructive):
            continue
        findings.append(found.model_copy(update={
            "rule": rule, "severity": severity,
            "message": f"the generated {path} breaks {found.rule}: {found.message}"}))
    return findings
