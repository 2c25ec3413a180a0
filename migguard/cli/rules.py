"""`migguard rules` and `migguard explain`: the documented finding ids."""

from __future__ import annotations

from typing import Annotated

import typer

from migguard.cli.common import FormatOption, check_format
from migguard.core.errors import InputError


def list_rules(format: FormatOption = "text") -> None:
    """List every rule: id, default severity, family and summary."""
    import json

    from migguard.core.finding_ids import finding_kinds

    rules = finding_kinds()  # lint rules, database steps, scan-app: sorted by id
    if format == "json":
        typer.echo(json.dumps([{"id": r.id, "severity": r.default_severity.value, "family": r.family,
                                "destructive": r.destructive, "summary": r.summary} for r in rules], indent=2))
        return
    check_format(format, allowed=("text", "json"))
    width = max(len(r.id) for r in rules)
    for rule in rules:
        typer.echo(f"{rule.id:<{width}}  {rule.default_severity.value:<7}  {rule.family:<13}  {rule.summary}")


def explain(rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. ban-drop-column.")]) -> None:
    """Print a rule's documentation."""
    from migguard.core.finding_ids import finding_kind

    rule = finding_kind(rule_id)
    if rule is None:
        raise InputError(f"unknown rule id '{rule_id}' (see `migguard rules`)")
    flags = ", destructive (refused unless --allow-destructive)" if rule.destructive else ""
    typer.echo(f"# {rule.id}\n\n{rule.summary}.\nDefault severity: {rule.default_severity.value}; family: {rule.family}{flags}.\n")
    typer.echo(rule.doc.strip())
