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
    plan_file: Annotated[Optional[Path], typer.Option("--plan", help="Apply this saved plan (directory or plan.json; with --fleet: plan --fleet's fleet-plan.json).")] = None,
    backup: Annotated[str, typer.Option("--backup", help="full | affected (only the tables the plan touches).")] = "full",
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Apply WITHOUT a backup (loud, and audited).")] = False,
    accept_drift: Annotated[bool, typer.Option("--accept-drift", help="Apply although production drifted (accepts schema-drift).")] = False,
    accept: Annotated[Optional[list[str]], typer.Option("--accept", metavar="FINDING_ID", help="Apply despite this plan finding (repeatable; printed and audited).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings refuse too.")] = False,
    fleet: Annotated[bool, typer.Option("--fleet", help="Every target of [tool.migguard.fleet]: canary first, then waves.")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--only", metavar="NAME", help="With --fleet: only this target (repeatable).")] = None,
    parallel: Annotated[Optional[int], typer.Option("--parallel", help="With --fleet: at most N targets at a time.")] = None,
    max_failures: Annotated[int, typer.Option("--max-failures", help="With --fleet: stop after K failed targets.")] = 1,
    config: ConfigOption = None,
) -> None:
    """Show (dry run) or, with --confirm-live, apply the pending migrations to production.

    The dry run runs the same gates and exits with the code the live run would have."""
    from migguard.apply.command import ApplyOptions, run_apply

    if backup not in ("full", "affected"):
        raise InputError(f"--backup takes full or affected, not '{backup}'")
    options = ApplyOptions(confirm_live=confirm_live, allow_destructive=allow_destructive, accept_drift=accept_drift,
                           accept=tuple(accept or ()), strict=strict, plan_path=None if fleet else plan_file,
                           backup="none" if no_backup else backup)
    run = session(ctx)
    if fleet:
        from migguard.fleet.command import fleet_apply
        from migguard.fleet.rollout import RolloutOptions

        loaded = run.load(config)
        outcome = fleet_apply(RolloutOptions(confirm_live, parallel, max_failures, options, plan_file), loaded,
                              tuple(only or ()), sys.stderr, run.quiet)
        _fleet_report(outcome, loaded, "migguard fleet rollout")
        return
    if only or parallel is not None:
        raise InputError("--only and --parallel take effect with --fleet")
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
    fleet: Annotated[bool, typer.Option("--fleet", help="Roll back fleet targets: --last-wave or --only NAME.")] = False,
    last_wave: Annotated[bool, typer.Option("--last-wave", help="With --fleet: the targets of the last wave that applied.")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--only", metavar="NAME", help="With --fleet: this target (repeatable).")] = None,
    parallel: Annotated[Optional[int], typer.Option("--parallel", help="With --fleet: at most N targets at a time.")] = None,
    max_failures: Annotated[int, typer.Option("--max-failures", help="With --fleet: stop after K failed targets.")] = 1,
    config: ConfigOption = None,
) -> None:
    """Show (dry run) or, with --confirm-live, run the rollback of the last applied migration(s)."""
    from migguard.apply.rollback import RollbackOptions, run_rollback
    from migguard.core.errors import GateRefused

    options = RollbackOptions(confirm_live=confirm_live, to_version=to, backup="none" if no_backup else "full",
                              restore_data=not no_restore_data, allow_destructive=allow_destructive)
    run = session(ctx)
    if fleet:
        from migguard.fleet.command import fleet_rollback
        from migguard.fleet.rollback import FleetRollbackOptions

        if to is not None:
            raise InputError("rollback --fleet undoes what the rollout applied; --to applies to one production")
        loaded = run.load(config)
        outcome = fleet_rollback(FleetRollbackOptions(confirm_live, last_wave, parallel, max_failures, options),
                                 loaded, tuple(only or ()), sys.stderr, run.quiet)
        _fleet_report(outcome, loaded, "migguard fleet rollback")
        return
    if last_wave or only or parallel is not None:
        raise InputError("--last-wave, --only and --parallel take effect with --fleet")
    outcome = run_rollback(options, run.load(config), progress=run.note)
    if not outcome.live:
        sys.stdout.write(outcome.text)
        if outcome.refusal:  # the dry run exits as the live run would
            raise GateRefused(outcome.refusal)
        run.note("migguard: dry run: nothing was rolled back (add --confirm-live)")
        return
    restored = "; ".join(f"{r.object}: {r.rows} row(s) restored" for r in outcome.restored)
    run.note(f"migguard: rolled back {', '.join(outcome.versions) or 'nothing'}" + (f"; {restored}" if restored else ""))


def _fleet_report(outcome, config, title: str) -> None:
    """The per-target table on stdout, the Markdown report written; a failed rollout exits with its worst code."""
    from migguard.fleet.command import report
    from migguard.fleet.rollout import FleetFailed

    try:
        text = report(outcome, config, title)
    except FleetFailed as failed:
        sys.stdout.write(failed.table)
        raise
    sys.stdout.write(text)
