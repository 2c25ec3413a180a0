"""`migguard shadow start|stop|status`: a shadow cluster kept running between commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, session
from migguard.core.exit_codes import ExitCode


shadow_app = typer.Typer(help="Keep a shadow PostgreSQL running between commands (faster plans).", no_args_is_help=True)

def _state_dir(ctx: typer.Context, config: Optional[str]) -> Path:
    return Path(session(ctx).load(config).root) / ".migguard"


@shadow_app.command("start")
def shadow_start(
    ctx: typer.Context,
    pg_version: Annotated[Optional[int], typer.Option("--pg-version", help="Major version (default: production's when PG_PROD_URL is set, else the installed server with the most extensions).")] = None,
    config: ConfigOption = None,
) -> None:
    """Start a shadow cluster and leave it running (state in .migguard/shadow.json)."""
    from migguard.core.config import secret
    from migguard.pg.shadow import start_persistent

    loaded = session(ctx).load(config)
    state = start_persistent(Path(loaded.root) / ".migguard", pg_version, production=secret("PG_PROD_URL", loaded))
    typer.echo(f"shadow running: PostgreSQL {state['major']} in {state['directory']}")


@shadow_app.command("stop")
def shadow_stop(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Stop the kept shadow cluster and delete its data."""
    from migguard.pg.shadow import stop_persistent

    typer.echo("shadow stopped" if stop_persistent(_state_dir(ctx, config)) else "no shadow was running")


@shadow_app.command("status")
def shadow_status(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Say whether a kept shadow cluster is running (exit 1 when not)."""
    from migguard.pg.shadow import read_state, running_shadow_url

    directory = _state_dir(ctx, config)
    state = read_state(directory)
    if state and running_shadow_url(directory):
        typer.echo(f"shadow running: PostgreSQL {state['major']} in {state['directory']} since {state['started_at']}")
        return
    typer.echo("no shadow running")
    raise typer.Exit(ExitCode.GATE_REFUSED)
