"""`migguard scan-app`: tenant-isolation lint of application code."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, FormatOption, OutputOption, check_format, emit, session
from migguard.core.exit_codes import ExitCode


def scan_app_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="Application source files or directories.")],
    schema: Annotated[Optional[str], typer.Option("--schema", help="Schema snapshot JSON (e.g. a plan's schema-after.json): its tables with the tenant column are monitored.")] = None,
    tables: Annotated[Optional[list[str]], typer.Option("--tables", help="Monitored tables, comma-separated (repeatable). Without --tables or --schema: [tool.migguard.scan] tables, else the migrations, else production's catalog.")] = None,
    allowlist: Annotated[Optional[str], typer.Option("--allowlist", help="Allowlist file (default: .migguard-allow here and above the scanned paths).")] = None,
    format: FormatOption = "text",
    output: OutputOption = None,
    config: ConfigOption = None,
) -> None:
    """Tenant-isolation lint of application code: SQL strings and ORM calls without the tenant filter."""
    from migguard.scan.scanner import ScanOptions, run_scan

    check_format(format)
    options = ScanOptions(paths=tuple(paths), schema=schema, tables=tuple(tables or ()), allowlist=allowlist)
    run = session(ctx)
    report = run_scan(options, run.load(config))
    emit(report, format, output)
    summary = report.summary
    run.note(f"migguard: scan-app: tenant tables from {summary['tables_source']} ({summary['tables_from']})")
    run.note(f"migguard: scan-app: {summary['files']} file(s), {summary['tables']} tenant table(s), "
             f"{summary['errors']} violation(s), {summary['allowlisted']} allowlisted: "
             f"{'gate passes' if report.ok else 'gate refused'}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)
