"""`migguard status` and `migguard diff`: what production holds compared with the migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from migguard.cli.common import ConfigOption, FormatOption, check_format, session, write_stdout
from migguard.core.exit_codes import ExitCode


def status(
    ctx: typer.Context,
    format: FormatOption = "text",
    no_drift: Annotated[bool, typer.Option("--no-drift", help="Skip the drift check (no shadow needed).")] = False,
    config: ConfigOption = None,
) -> None:
    """Applied, pending and edited migrations, and schema drift of production."""
    from migguard.drift.status import run_status
    from migguard.report import status as report

    check_format(format, allowed=("text", "json"))
    run = session(ctx)
    result = run_status(run.load(config), check_drift=not no_drift)
    write_stdout((report.render_json if format == "json" else report.render_text)(result))
    raise typer.Exit(ExitCode.OK if result.ok else ExitCode.GATE_REFUSED)


def diff_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="Database URL, migrations directory or schema JSON.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Database URL, migrations directory or schema JSON.")],
    sql_only: Annotated[bool, typer.Option("--sql", help="Print only the SQL that turns FROM into TO.")] = False,
    format: FormatOption = "text",
    config: ConfigOption = None,
) -> None:
    """Schema diff of any two sources, with the SQL that turns FROM into TO."""
    from migguard.drift.compare import compare
    from migguard.report import diff as report

    check_format(format, allowed=("text", "json"))
    run = session(ctx)
    result = compare(source, target, run.load(config))
    render = report.render_sql if sql_only else report.render_json if format == "json" else report.render_text
    write_stdout(render(result))
