"""`migguard status` and `migguard diff`: what production holds compared with the migrations."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from migguard.cli.common import ConfigOption, FormatOption, check_format, load
from migguard.core.exit_codes import ExitCode


def status(
    format: FormatOption = "text",
    no_drift: Annotated[bool, typer.Option("--no-drift", help="Skip the drift check (no shadow needed).")] = False,
    config: ConfigOption = None,
) -> None:
    """Applied, pending and edited migrations, and schema drift of production."""
    import json

    from migguard.drift.status import run_status

    check_format(format, allowed=("text", "json"))
    result = run_status(load(config), check_drift=not no_drift)
    if format == "json":
        typer.echo(json.dumps({"version": 1, "ok": result.ok, "command": "status", "target": result.target,
                               "applied": result.applied, "pending": result.pending, "edited": result.edited,
                               "missing": result.missing, "drift": [c.describe() for c in result.drift],
                               "part_way": [{"version": p.version, "done": p.done, "total": p.total,
                                             "last_failure": p.last_failure} for p in result.part_way],
                               "part_way_edited": result.part_way_edited}, indent=2))
    else:
        typer.echo(f"production: {result.target}")
        typer.echo(f"applied:  {len(result.applied)}" + (f" (last {result.applied[-1]})" if result.applied else ""))
        typer.echo(f"pending:  {len(result.pending)}" + (f" ({', '.join(result.pending)})" if result.pending else ""))
        for version in result.edited:
            typer.echo(f"edited:   {version} changed after it was applied (checksum mismatch)")
        for version in result.missing:
            typer.echo(f"missing:  {version} is applied in production but has no file")
        for part in result.part_way:
            typer.echo(f"part way: {part.describe()}")
        for message in result.part_way_edited:
            typer.echo(f"part way: {message}")
        for change in result.drift:
            typer.echo(f"drift:    {change.describe()}")
        if not no_drift and not result.drift:
            typer.echo("drift:    none")
    raise typer.Exit(ExitCode.OK if result.ok else ExitCode.GATE_REFUSED)


def diff_command(
    source: Annotated[str, typer.Argument(metavar="FROM", help="Database URL, migrations directory or schema JSON.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Database URL, migrations directory or schema JSON.")],
    sql_only: Annotated[bool, typer.Option("--sql", help="Print only the SQL that turns FROM into TO.")] = False,
    format: FormatOption = "text",
    config: ConfigOption = None,
) -> None:
    """Schema diff of any two sources, with the SQL that turns FROM into TO."""
    import json

    from migguard.drift.compare import compare

    check_format(format, allowed=("text", "json"))
    result = compare(source, target, load(config))
    if sql_only:
        sys.stdout.write(result.forward_sql)
    elif format == "json":
        typer.echo(json.dumps({"version": 1, "command": "diff", "from": result.source, "to": result.target,
                               "changes": [{"kind": c.kind, "object": c.object, "forward": c.forward,
                                            "reverse": c.reverse, "destructive": c.destructive, "lossy": c.lossy,
                                            "lock": c.lock} for c in result.changes]}, indent=2))
    else:
        typer.echo(f"-- {len(result.changes)} change(s) from {result.source} to {result.target}")
        for change in result.changes:
            typer.echo(f"-- {change.describe()}" + (f" [{change.lock}]" if change.lock else ""))
        sys.stdout.write(result.forward_sql)
