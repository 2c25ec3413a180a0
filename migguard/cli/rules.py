"""`migguard rules` and `migguard explain`: the documented finding ids."""

from __future__ import annotations

from typing import Annotated

import typer

from migguard.cli.common import FormatOption, check_format, write_stdout
from migguard.core.errors import InputError


def list_rules(format: FormatOption = "text") -> None:
    """List every rule: id, default severity, family and summary."""
    from migguard.core.finding_ids import finding_kinds
    from migguard.report import rules as report

    rules = finding_kinds()  # lint rules, database steps, scan-app: sorted by id
    if format != "json":
        check_format(format, allowed=("text", "json"))
    write_stdout((report.render_json if format == "json" else report.render_text)(rules))


def explain(rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. ban-drop-column.")]) -> None:
    """Print a rule's documentation."""
    from migguard.core.finding_ids import finding_kind

    rule = finding_kind(rule_id)
    if rule is None:
        raise InputError(f"unknown rule id '{rule_id}' (see `migguard rules`)")
    flags = ", destructive (refused unless --allow-destructive)" if rule.destructive else ""
    typer.echo(f"# {rule.id}\n\n{rule.summary}.\nDefault severity: {rule.default_severity.value}; family: {rule.family}{flags}.\n")
    typer.echo(rule.doc.strip())
