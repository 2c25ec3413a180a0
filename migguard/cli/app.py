"""The root command: every command and command group is registered here, and `main()` runs them.

A command lives in the module of its group (cli/<group>.py); this file only says which module
serves which name, in the order `migguard --help` lists them (COMMANDS). A command's module is
imported, and its options built, only when that command runs or help lists it: `migguard lint`
does not pay for the other fifteen.
"""

# No `from __future__ import annotations` here: typer reads the command signatures at run time, and a string
# annotation is compiled anew each time it asks (about 2 ms of a one-file lint); real ones are in the bytecode.
import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from typing import Annotated

import typer
from typer.core import TyperGroup

from migguard import __version__
from migguard.cli.common import Session, session
from migguard.core import collector
from migguard.core.errors import MigguardError
from migguard.core.exit_codes import ExitCode
from migguard.core.redact import forget_secrets, redact_text

# Command name → "module:attribute" under migguard.cli: a function is a command, a typer.Typer a
# command group. Adding a command is one line here.
COMMANDS = {
    "lint": "lint:lint",
    "plan": "plan:plan",
    "apply": "apply:apply",
    "rollback": "apply:rollback",
    "baseline": "baseline:baseline",
    "status": "drift:status",
    "diff": "drift:diff_command",
    "query": "query:query_command",
    "scan-app": "scan:scan_app_command",
    "new": "project:new_command",
    "init": "project:init_command",
    "rules": "rules:list_rules",
    "explain": "rules:explain",
    "shadow": "shadow:shadow_app",
    "audit": "audit:audit_app",
    "rls": "rls:rls_app",
}


class _Commands(MutableMapping):
    """The root group's commands by name, each built on first use from COMMANDS; every name is
    listed (help, "did you mean") whether built yet or not."""

    def __init__(self) -> None:
        self._built: dict = {}

    def __getitem__(self, name: str):
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = self._build(name)
        return self._built[name]

    def _build(self, name: str):
        module, _, attribute = COMMANDS[name].partition(":")
        target = getattr(importlib.import_module(f"migguard.cli.{module}"), attribute)
        if isinstance(target, typer.Typer):
            return typer.main.get_group_from_info(
                typer.models.TyperInfo(target, name=name), pretty_exceptions_short=app.pretty_exceptions_short,
                suggest_commands=app.suggest_commands, rich_markup_mode=app.rich_markup_mode)
        return typer.main.get_command_from_info(
            typer.models.CommandInfo(name=name, callback=target), pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode)

    def __setitem__(self, name: str, command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("the commands of migguard are fixed by COMMANDS")

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(name not in COMMANDS for name in self._built)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._built


class _LazyGroup(TyperGroup):
    """The root group, its commands built on demand (see _Commands)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()


app = typer.Typer(
    name="migguard",
    cls=_LazyGroup,
    help="PostgreSQL migration safety gatekeeper: lint, plan on a shadow database, apply with backups.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"migguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (errors still).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also say which config file is used.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain output (migguard prints no colour codes anyway).")] = False,
) -> None:
    run = session(ctx)
    run.debug, run.quiet, run.verbose = debug, quiet, verbose and not quiet
    if no_color:
        os.environ["NO_COLOR"] = "1"
    if ctx.invoked_subcommand != "lint":  # lint resumes it before its second file (lint/engine.py)
        collector.resume()


def _error(message: str, prefix: str = "migguard: error: ", detail: str | None = None) -> None:
    """Print an error as exactly one redacted line on stderr (a newline in a path is shown as \\n),
    then its detail, if any, as indented lines (SQL to undo what stayed applied, say)."""
    line = redact_text(message).replace("\r", "\\r").replace("\n", "\\n")
    typer.echo(f"{prefix}{line}", err=True)
    for extra in (redact_text(detail).splitlines() if detail else ()):
        typer.echo(f"    {extra}".rstrip(), err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every error into one redacted line and its exit code."""
    paused = collector.pause()  # until the command's own work starts (core/collector.py)
    try:
        _main(argv)
    finally:
        if paused:  # called in a process that collects (run_cli): leave it collecting
            collector.resume()


def _main(argv: list[str] | None) -> None:
    try:  # typer ≥ 0.29 vendors click; older releases depend on it
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover
        from click import exceptions as click

    reset_run_state()
    run = Session()
    try:
        # Without standalone mode, a typer.Exit comes back as the return value.
        code = app(args=argv, standalone_mode=False, prog_name="migguard", obj=run)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except MigguardError as error:
        if run.debug:
            raise
        _error(error.message, detail=error.detail)
        sys.exit(error.exit_code)
    except RecursionError:  # input nested deeper than a tree walk can follow: bad input, not a defect
        if run.debug:
            raise
        _error(f"the input is nested too deeply to analyse (more than {sys.getrecursionlimit()} levels for "
               "Python): split or simplify the deepest expression")
        sys.exit(ExitCode.USAGE)
    except click.NoArgsIsHelpError as error:
        typer.echo(error.ctx.get_help() if error.ctx else "", err=True)
        sys.exit(ExitCode.USAGE)
    except click.UsageError as error:
        _error(error.format_message())
        sys.exit(ExitCode.USAGE)
    except typer.Abort:
        _error("aborted")
        sys.exit(ExitCode.USAGE)
    except KeyboardInterrupt:
        _error("interrupted")
        sys.exit(130)
    except Exception as error:  # a bug: still one redacted line, with the traceback only under --debug
        if run.debug:
            raise
        if _lost_connection(error):  # the server went away mid-command: a database failure, not a defect
            _error(f"database connection failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
            sys.exit(ExitCode.DATABASE)
        message = str(error).splitlines()[0] if str(error) else ""
        _error(f"{type(error).__name__}: {message} (a defect in migguard: please report it with the output of "
               "the same command run with --debug)", prefix="migguard: internal error: ")
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


def reset_run_state() -> None:
    """Forget what an earlier run in this process left in module state, so that two main() calls in
    one process (the test suite's in-process CLI) behave as two processes: the passwords remembered
    for redaction and the env file's values read once per run. Modules not loaded yet hold nothing
    and stay unloaded (`--help` imports no config)."""
    forget_secrets()
    config = sys.modules.get("migguard.core.config")
    if config is not None:
        config.forget_env_files()


def _lost_connection(error: Exception) -> bool:
    """psycopg's OperationalError escaping a command (a server that stopped, a dropped connection);
    read from sys.modules so that commands that never load psycopg do not pay for its import."""
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.OperationalError)
