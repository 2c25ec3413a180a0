"""`migguard plan`: prove the pending migrations on a shadow database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, FormatOption, OutputOption, Session, check_format, emit, session, write_output
from migguard.core.errors import InputError
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
    fleet: Annotated[bool, typer.Option("--fleet", help="Plan every target of [tool.migguard.fleet]: one proof per distinct schema.")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--only", help="With --fleet: only this target (repeatable).")] = None,
    parallel: Annotated[Optional[int], typer.Option("--parallel", min=1, max=256, help="With --fleet: targets read at a time.")] = None,
    config: ConfigOption = None,
) -> None:
    """Prove the pending migrations on a shadow database and write a plan with a verified rollback."""
    from migguard.fleet.plan import FleetPlanOptions
    from migguard.plan.command import PlanOptions, PlanRefused, run_plan

    run = session(ctx)
    if fleet:
        if base:
            raise InputError("--base plans without production; --fleet plans every production: use one of them")
        _plan_fleet(run, config, format, output, FleetPlanOptions(
            only=tuple(only or ()), parallel=parallel, accept_drift=accept_drift, continue_on_error=continue_on_error,
            allow_destructive=allow_destructive, strict=strict, select=tuple(select or ()), ignore=tuple(ignore or ())))
    if only or parallel:
        raise InputError("--only and --parallel go with --fleet")
    check_format(format)
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


def _plan_fleet(run: Session, config: str | None, format: str, output: Optional[Path], options) -> None:
    """`plan --fleet`: the fleet plan as a table, JSON or Markdown; exits with the worst target's code."""
    import json

    from migguard.fleet.plan import run_fleet_plan

    check_format(format, allowed=("text", "json", "markdown"))
    result = run_fleet_plan(options, run.load(config), progress=run.note)
    text = {"json": lambda: json.dumps(result.to_json(), indent=2) + "\n", "markdown": result.to_markdown,
            "text": result.to_text}[format]()
    write_output(text, output)
    run.note(f"migguard: fleet plan written to {result.path}")
    raise typer.Exit(result.exit_code)

