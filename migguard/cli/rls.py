"""`migguard rls check`: row level security audit and tenant-isolation probe."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, FormatOption, OutputOption, check_format, emit, session
from migguard.core.exit_codes import ExitCode


rls_app = typer.Typer(help="Row level security: catalog audit and tenant-isolation probe.", no_args_is_help=True)

@rls_app.command("check")
def rls_check(
    ctx: typer.Context,
    probe: Annotated[bool, typer.Option("--probe", help="Also prove isolation with two tenants' rows on a shadow clone.")] = False,
    url: Annotated[Optional[str], typer.Option("--url", help="Database to check (default: PG_PROD_URL). Only read.")] = None,
    format: FormatOption = "text",
    output: OutputOption = None,
    config: ConfigOption = None,
) -> None:
    """Audit row level security of a database; --probe tries to break tenant isolation on a copy."""
    from migguard.rls.command import run_rls_check

    check_format(format)
    run = session(ctx)
    report = run_rls_check(run.load(config), url, probe)
    emit(report, format, output)
    run.note(f"migguard: rls check: {report.summary['errors']} error(s), {report.summary['warnings']} warning(s)"
             f"{' (audit and probe)' if probe else ' (audit; add --probe to test isolation)'}: "
             f"{'gate passes' if report.ok else 'gate refused'}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)
