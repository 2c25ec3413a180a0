"""`migguard rules` and `migguard explain`: the documented finding ids."""

from __future__ import annotations

from typing import Annotated

import typer

from migguard.cli.common import FormatOption, check_format, write_stdout
from migguard.core.errors import InputError


def list_rules(format: FormatOption = "text") -> None:
    """List every rule: id, default severity, family and summary."""
    from migguard.lint.rules import ALL_RULES
    from migguard.report import rules as report
    from migguard.rls.findings import DATABASE_RULES
    from migguard.scan.findings import SCAN_RULES

    rules = sorted((*ALL_RULES, *DATABASE_RULES, *SCAN_RULES), key=lambda r: r.id)  # static, database, scan-app
    if format != "json":
        check_format(format, allowed=("text", "json"))
    write_stdout((report.render_json if format == "json" else report.render_text)(rules))

def explain(rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. ban-drop-column.")]) -> None:
    """Print a rule's documentation."""
    from migguard.lint.rules import RULES_BY_ID
    from migguard.scan.findings import by_id as scan_rules

    rule = RULES_BY_ID.get(rule_id) or scan_rules.get(rule_id)
    if rule is None:
        from migguard.rls.findings import by_id

        rule = by_id.get(rule_id)
    if rule is None:
        raise InputError(f"unknown rule id '{rule_id}' (see `migguard rules`)")
    flags = ", destructive (refused unless --allow-destructive)" if rule.destructive else ""
    typer.echo(f"# {rule.id}\n\n{rule.summary}.\nDefault severity: {rule.default_severity.value}; family: {rule.family}{flags}.\n")
    typer.echo(rule.doc.strip())
