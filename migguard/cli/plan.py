"""`migguard plan`: prove the pending migrations on a shadow database."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, FormatOption, OutputOption, check_format, emit, session
from migguard.core.exit_codes import ExitCode


def plan(
    ctx: typer.Context,
    format: FormatOption = "text",
    output: OutputOption = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Without production: the git ref whose migrations count as applied.")] = None,
    continue_on_error: Annotated[bool, typer.Option("--continue-on-error", help="Plan even when lint finds errors.")] = False,
    accept_drift: Annotated[bool, typer.Option("--accept-drift", help="Report drift as warnings instead of refusing.")] = False,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Destructive statements are warnings.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the gate too.")] = False,
    select: Annotated[Optional[list[str]], typer.Option("--select", help="Lint step: only these rule ids or families.")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option("--ignore", help="Lint step: skip these rule ids or families.")] = None,
    config: ConfigOption = None,
) -> None:
    """Prove the pending migrations on a shadow database and write a plan with a verified rollback."""
    from migguard.plan.command import PlanOptions, PlanRefused, run_plan

    check_format(format)
    run = session(ctx)
    settings = run.load(config)
    options = PlanOptions(base=base, continue_on_error=continue_on_error, accept_drift=accept_drift,
                          allow_destructive=allow_destructive, strict=strict, select=tuple(select or ()),
                          ignore=tuple(ignore or ()))
    try:
        report, result = run_plan(options, settings, progress=run.note)
    except PlanRefused as refused:
        emit(refused.report.model_copy(update={"command": "plan", "ok": False}), format, output)
        run.note(f"migguard: plan refused: {refused.message}")
        raise typer.Exit(ExitCode.GATE_REFUSED) from None
    emit(report, format, output)
    if result.directory is not None:
        run.note(f"migguard: plan written to {result.directory}")
    verdict = "gate passes" if report.ok else "gate refused"
    run.note(f"migguard: {len(result.pending)} pending migration(s), {len(result.changes)} change(s), "
             f"rollback {'verified' if result.rollback_verified else 'NOT verified'}: {verdict}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)
