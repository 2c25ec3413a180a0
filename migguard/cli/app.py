"""The root command: every command and command group is registered here, and `main()` runs them.

A command lives in the module of its group (cli/<group>.py); this file only says which module
serves which name, in the order `migguard --help` lists them.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from migguard import __version__
from migguard.cli import apply, audit, baseline, drift, lint, plan, project, query, rls, rules, scan, shadow
from migguard.cli.common import Session, session
from migguard.core.errors import MigguardError
from migguard.core.exit_codes import ExitCode
from migguard.core.redact import redact_text

app = typer.Typer(
    name="migguard",
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


app.command()(lint.lint)
app.command()(plan.plan)
app.command()(apply.apply)
app.command()(apply.rollback)
app.command()(baseline.baseline)
app.command()(drift.status)
app.command("diff")(drift.diff_command)
app.add_typer(shadow.shadow_app, name="shadow")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(rls.rls_app, name="rls")
app.command("query")(query.query_command)
app.command("scan-app")(scan.scan_app_command)
app.command("new")(project.new_command)
app.command("init")(project.init_command)
app.command("rules")(rules.list_rules)
app.command()(rules.explain)


def _error(message: str, prefix: str = "migguard: error: ", detail: str | None = None) -> None:
    """Print an error as exactly one redacted line on stderr (a newline in a path is shown as \\n),
    then its detail, if any, as indented lines (SQL to undo what stayed applied, say)."""
    line = redact_text(message).replace("\r", "\\r").replace("\n", "\\n")
    typer.echo(f"{prefix}{line}", err=True)
    for extra in (redact_text(detail).splitlines() if detail else ()):
        typer.echo(f"    {extra}".rstrip(), err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every error into one redacted line and its exit code."""
    try:  # typer ≥ 0.29 vendors click; older releases depend on it
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover
        from click import exceptions as click

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


def _lost_connection(error: Exception) -> bool:
    """psycopg's OperationalError escaping a command (a server that stopped, a dropped connection);
    read from sys.modules so that commands that never load psycopg do not pay for its import."""
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.OperationalError)
