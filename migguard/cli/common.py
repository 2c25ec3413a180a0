"""What every command shares: the common options, the run's Session (root flags, config, progress), rendering."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from migguard.core.errors import InputError

FormatOption = Annotated[str, typer.Option("--format", "-f", help="text | json | sarif | github | markdown")]
ConfigOption = Annotated[Optional[str], typer.Option("--config", help="Config file (default: migguard.toml or pyproject.toml, searched upward).")]
OutputOption = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of stdout.")]


@dataclass
class Session:
    """The root flags of one run (--debug, --quiet, --verbose): main() makes it, the root callback
    fills it, and typer hands it to every command as ctx.obj (see session())."""

    debug: bool = False
    quiet: bool = False
    verbose: bool = False

    def note(self, line: str) -> None:
        """Progress and summaries: stderr, unless --quiet (stdout carries only the report)."""
        if not self.quiet:
            typer.echo(line, err=True)

    def load(self, config: Optional[str]):
        """The configuration; with --verbose, say where it came from."""
        from migguard.core.config import load_config

        loaded = load_config(config)
        if self.verbose:
            self.note(f"migguard: config {loaded.source or 'defaults (no migguard.toml or [tool.migguard] found)'}")
        return loaded


def session(ctx: typer.Context) -> Session:
    """The run's Session (a default one when the app is invoked without main(), as in typer's test runner)."""
    return ctx.ensure_object(Session)


def read_stdin(name: str) -> str:
    """Standard input as SQL text: UTF-8, a BOM dropped, as a file would be read."""
    from migguard.core.sources import decode_sql

    return decode_sql(name, sys.stdin.buffer.read())


def check_format(name: str, allowed: tuple[str, ...] | None = None) -> None:
    from migguard.report import FORMAT_NAMES

    choices = allowed or FORMAT_NAMES
    if name not in choices:
        raise InputError(f"unknown format '{name}' (choose from: {', '.join(choices)})")


def emit(report, format: str, output: Path | None) -> None:
    """Render the report to stdout or --output; with --format github also fill the job summary."""
    from migguard.report import append_job_summary, renderer

    write_output(renderer(format)(report), output)
    if format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        append_job_summary(renderer("markdown")(report))


def write_output(text: str, output: Path | None) -> None:
    """The rendered text to --output (its directory made) or, without one, to stdout."""
    if output is None:
        write_stdout(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror}") from None


def write_stdout(text: str) -> None:
    """Write the report; a stdout that cannot encode it (C locale, cp1252) gets UTF-8, as --output does."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:  # nothing was written: the whole text is encoded before any byte goes out
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
