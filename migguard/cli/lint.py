"""`migguard lint`: static checks of migration SQL."""

# No `from __future__ import annotations` here: typer reads the command signatures at run time, and a string
# annotation is compiled anew each time it asks (about 2 ms of a one-file lint); real ones are in the bytecode.
from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, FormatOption, OutputOption, check_format, emit, read_stdin, session
from migguard.core.exit_codes import ExitCode


def lint(
    ctx: typer.Context,
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files or directories ('-' reads stdin). Default: the configured migrations directory.")] = None,
    format: FormatOption = "text",
    output: OutputOption = None,
    stdin_filename: Annotated[str, typer.Option("--stdin-filename", help="Path to show for SQL read from stdin.")] = "<stdin>",
    changed_since: Annotated[Optional[str], typer.Option("--changed-since", help="Lint only migration files changed since this git ref.")] = None,
    select: Annotated[Optional[list[str]], typer.Option("--select", help="Only these rule ids or families (repeatable, comma-separated).")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option("--ignore", help="Skip these rule ids or families.")] = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Report destructive statements as warnings instead of refusing them.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the gate too.")] = False,
    pg_version: Annotated[Optional[int], typer.Option("--pg-version", help="Target PostgreSQL major version (default from config: 15).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write .migguard/cache.")] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per CPU).")] = None,
    config: ConfigOption = None,
) -> None:
    """Check migration SQL for destructive statements, lock hazards and tenant-isolation gaps."""
    from migguard.lint.engine import LintOptions, run_lint

    check_format(format)
    run = session(ctx)
    settings = run.load(config)
    stdin_text = read_stdin(stdin_filename) if paths and "-" in paths else None
    options = LintOptions(
        paths=tuple(paths or ()), stdin_text=stdin_text, stdin_filename=stdin_filename,
        changed_since=changed_since, select=tuple(select or ()), ignore=tuple(ignore or ()),
        allow_destructive=allow_destructive, strict=strict, pg_version=pg_version, use_cache=not no_cache, jobs=jobs,
    )
    report = run_lint(options, settings)
    emit(report, format, output)
    summary = report.summary
    verdict = "gate passes" if report.ok else "gate refused"
    run.note(f"migguard: {summary['files']} file(s), {summary['errors']} error(s), {summary['warnings']} warning(s), "
             f"{summary['infos']} info: {verdict}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)
