"""`migguard baseline`: adopt an existing production (its schema becomes the first migration)."""

from __future__ import annotations

from typing import Annotated

import typer

from migguard.cli.common import ConfigOption, session, write_stdout


def baseline(
    ctx: typer.Context,
    confirm_live: Annotated[bool, typer.Option("--confirm-live", help="Write the migration and record it as applied in production (default: dry run).")] = False,
    config: ConfigOption = None,
) -> None:
    """Adopt an existing production: its schema becomes the first migration, proven on the shadow and recorded as applied."""
    from migguard.baseline.command import BaselineOptions, dry_run_text, run_baseline

    run = session(ctx)
    outcome = run_baseline(BaselineOptions(confirm_live=confirm_live), run.load(config), progress=run.note)
    if not outcome.live:
        write_stdout(dry_run_text(outcome))
        run.note("migguard: dry run: nothing was written; the baseline is proven (add --confirm-live to record it)")
        return
    run.note(f"migguard: baseline written and recorded as applied: {outcome.summary()}")
