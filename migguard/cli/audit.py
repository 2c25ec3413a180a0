"""`migguard audit verify|restart`: the hash-chained audit log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, session
from migguard.core.exit_codes import ExitCode


audit_app = typer.Typer(help="The hash-chained audit log of live operations and refusals.", no_args_is_help=True)

@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    log: Annotated[Optional[Path], typer.Option("--log", help="Audit log to check (default: audit_log from the config).")] = None,
    prod: Annotated[bool, typer.Option("--prod", help="Also check that the log holds the head production recorded (PG_PROD_URL; read only).")] = False,
    config: ConfigOption = None,
) -> None:
    """Verify the audit log's hash chain; report the first broken entry (exit 1)."""
    from migguard.core.audit import AuditLog, verify

    run = session(ctx)
    settings = run.load(config) if log is None or prod else None
    log = log if log is not None else Path(settings.root) / settings.audit_log
    result = verify(log)
    if not result.ok:
        typer.echo(f"audit log broken at line {result.broken_line}: {result.reason}")
        raise typer.Exit(ExitCode.GATE_REFUSED)
    held = ""
    if prod:
        from migguard.apply.audit_guard import head_problem, production_head
        from migguard.core.config import production_url

        stored = production_head(production_url(settings), settings.history_table)
        problem = head_problem(AuditLog(log), stored)
        if problem:
            typer.echo(problem)
            raise typer.Exit(ExitCode.GATE_REFUSED)
        held = f"; holds production's head (line {stored.head.lines})" if stored else "; production has no head yet"
    typer.echo(f"audit log OK: {result.entries} entries" + ("" if log.exists() else f" (no log at {log} yet)") + held)


@audit_app.command("restart")
def audit_restart(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="What was investigated, and why a new log is started (audited).")],
    confirm_live: Annotated[bool, typer.Option("--confirm-live", help="Really move the log aside and reset production's audit head.")] = False,
    config: ConfigOption = None,
) -> None:
    """After investigating a broken or disowned audit log: move it aside and start a new one (audited)."""
    from migguard.apply.audit_guard import restart
    from migguard.core.audit import AuditLog
    from migguard.core.config import production_url

    run = session(ctx)
    settings = run.load(config)
    outcome = restart(AuditLog(Path(settings.root) / settings.audit_log), production_url(settings),
                      settings.history_table, reason, settings.lockdown_after, confirm_live)
    sys.stdout.write(outcome.text)
    run.note("migguard: new audit log started; live runs are allowed again" if outcome.live
             else "migguard: dry run: nothing was changed (add --confirm-live)")
