"""`migguard apply` and `migguard rollback`: the only commands that write to production."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, session
from migguard.core.errors import InputError


def apply(
    ctx: typer.Context,
    confirm_live: Annotated[bool, typer.Option("--confirm-live", help="Really write to production (default: dry run).")] = False,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Allow destructive changes.")] = False,
    plan_file: Annotated[Optional[Path], typer.Option("--plan", help="Apply this saved plan (directory or plan.json).")] = None,
    backup: Annotated[str, typer.Option("--backup", help="full | affected (only the tables the plan touches).")] = "full",
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Apply WITHOUT a backup (loud, and audited).")] = False,
    accept_drift: Annotated[bool, typer.Option("--accept-drift", help="Apply although production drifted (accepts schema-drift).")] = False,
    accept: Annotated[Optional[list[str]], typer.Option("--accept", metavar="FINDING_ID", help="Apply despite this plan finding (repeatable; printed and audited).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings refuse too.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show (dry run) or, with --confirm-live, apply the pending migrations to production.

    The dry run runs the same gates and exits with the code the live run would have."""
    from migguard.apply.command import ApplyOptions, run_apply

    if backup not in ("full", "affected"):
        raise InputError(f"--backup takes full or affected, not '{backup}'")
    options = ApplyOptions(confirm_live=confirm_live, allow_destructive=allow_destructive, accept_drift=accept_drift,
                           accept=tuple(accept or ()), strict=strict, plan_path=plan_file,
                           backup="none" if no_backup else backup)
    run = session(ctx)
    outcome = run_apply(options, run.load(config), progress=run.note)
    if not outcome.live:
        sys.stdout.write(outcome.text)
        if outcome.refusal is not None:
            raise outcome.refusal
        run.note("migguard: dry run: nothing was applied; the gates pass (add --confirm-live to apply)")
        return
    run.note(f"migguard: applied {len(outcome.applied)} migration(s)"
             + (f" ({', '.join(outcome.applied)})" if outcome.applied else "")
             + (f"; backup {outcome.backup.path}" if outcome.backup else "")
             + (f"; rollback script {outcome.rollback_path}" if outcome.rollback_path else ""))


def rollback(
    ctx: typer.Context,
    confirm_live: Annotated[bool, typer.Option("--confirm-live", help="Really roll back production (default: dry run).")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Roll back every migration applied after this version (one transaction).")] = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Roll back although it destroys data written since the apply.")] = False,
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Roll back WITHOUT a backup first (audited).")] = False,
    no_restore_data: Annotated[bool, typer.Option("--no-restore-data", help="Do not restore dropped data from the apply's backup (it is lost).")] = False,
    config: ConfigOption = None,
) -> None:
    """Show (dry run) or, with --confirm-live, run the rollback of the last applied migration(s)."""
    from migguard.apply.rollback import RollbackOptions, run_rollback
    from migguard.core.errors import GateRefused

    options = RollbackOptions(confirm_live=confirm_live, to_version=to, backup="none" if no_backup else "full",
                              restore_data=not no_restore_data, allow_destructive=allow_destructive)
    run = session(ctx)
    outcome = run_rollback(options, run.load(config), progress=run.note)
    if not outcome.live:
        sys.stdout.write(outcome.text)
        if outcome.refusal:  # the dry run exits as the live run would
            raise GateRefused(outcome.refusal)
        run.note("migguard: dry run: nothing was rolled back (add --confirm-live)")
        return
    restored = "; ".join(f"{r.object}: {r.rows} row(s) restored" for r in outcome.restored)
    run.note(f"migguard: rolled back {', '.join(outcome.versions) or 'nothing'}" + (f"; {restored}" if restored else ""))
