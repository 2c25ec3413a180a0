"""`migguard status` and `migguard diff`: what production holds compared with the migrations."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, FormatOption, Session, check_format, session, write_stdout
from migguard.core.errors import InputError
from migguard.core.exit_codes import ExitCode


def status(
    ctx: typer.Context,
    format: FormatOption = "text",
    no_drift: Annotated[bool, typer.Option("--no-drift", help="Skip the drift check (no shadow needed).")] = False,
    fleet: Annotated[bool, typer.Option("--fleet", help="Every target of [tool.migguard.fleet]: a table, JSON or Markdown.")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--only", help="With --fleet: only this target (repeatable).")] = None,
    parallel: Annotated[Optional[int], typer.Option("--parallel", min=1, max=256, help="With --fleet: targets read at a time.")] = None,
    config: ConfigOption = None,
) -> None:
    """Applied, pending and edited migrations, and schema drift of production."""
    from migguard.drift.status import run_status
    from migguard.report import status as report

    run = session(ctx)
    if fleet:
        _status_fleet(run, config, format, tuple(only or ()), parallel, not no_drift)
    if only or parallel:
        raise InputError("--only and --parallel go with --fleet")
    check_format(format, allowed=("text", "json"))
    result = run_status(run.load(config), check_drift=not no_drift)
    write_stdout((report.render_json if format == "json" else report.render_text)(result))
    raise typer.Exit(ExitCode.OK if result.ok else ExitCode.GATE_REFUSED)


def _status_fleet(run: Session, config: str | None, format: str, only: tuple[str, ...], parallel: int | None,
                  check_drift: bool) -> None:
    """`status --fleet`: one line a target; exits 3 if a target cannot be reached, 1 for drift or an edit."""
    import json

    from migguard.fleet.status import run_fleet_status

    check_format(format, allowed=("text", "json", "markdown"))
    result = run_fleet_status(run.load(config), only, parallel, check_drift, progress=run.note)
    write_stdout({"json": lambda: json.dumps(result.to_json(), indent=2) + "\n", "markdown": result.to_markdown,
                  "text": result.to_text}[format]())
    raise typer.Exit(result.exit_code)


def diff_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="Database URL, migrations directory or schema JSON.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Database URL, migrations directory or schema JSON.")],
    sql_only: Annotated[bool, typer.Option("--sql", help="Print only the SQL that turns FROM into TO.")] = False,
    online: Annotated[bool, typer.Option(
        "--online/--no-online", help="Online-safe SQL (CREATE INDEX CONCURRENTLY, NOT VALID then VALIDATE, SET NOT NULL "
                                     "through a CHECK), as migguard's lint requires of a migration; --no-online: the "
                                     "plain forms, in one script.")] = True,
    format: FormatOption = "text",
    config: ConfigOption = None,
) -> None:
    """Schema diff of any two sources, with the SQL that turns FROM into TO."""
    from migguard.drift.compare import compare
    from migguard.report import diff as report

    check_format(format, allowed=("text", "json"))
    run = session(ctx)
    result = compare(source, target, run.load(config), online=online)
    render = report.render_sql if sql_only else report.render_json if format == "json" else report.render_text
    write_stdout(render(result))
