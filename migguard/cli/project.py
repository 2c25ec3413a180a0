"""`migguard new` and `migguard init`: project and migration scaffolding."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from migguard.cli.common import ConfigOption, session


def new_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The migration's name, e.g. add_invoice_due_date (a name, not a path).")],
    template: Annotated[str, typer.Option("--template", "-t", help="feature (a migration, in `migrations`) | seed (in `seeds`).")],
    config: ConfigOption = None,
) -> None:
    """Create a migration or seed file from a template, numbered after the newest, inside the write path."""
    from migguard.project.new import NewOptions, run_new

    run = session(ctx)
    result = run_new(NewOptions(name=name, template=template), run.load(config))
    for path in result.files:
        typer.echo(_shown(path))
    for warning in result.warnings:
        run.note(f"migguard: warning: {warning}")
    run.note(f"migguard: created {template} {result.version} ({result.layout} layout) from {_shown(result.template)}")


def init_command(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="The project's root directory.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite migguard.toml, vault/.env.example and the workflow.")] = False,
) -> None:
    """Write a commented migguard.toml, db/migrations/, db/seeds/, vault/.env.example, a pre-commit hook and a CI workflow."""
    from migguard.project.init import run_init

    result = run_init(directory, force=force)
    for path in result.directories + result.written:
        typer.echo(f"created {_shown(path)}" + ("/" if path.is_dir() else ""))
    if result.gitignore_added:
        typer.echo(f"added to .gitignore: {', '.join(result.gitignore_added)}")
    if result.precommit_snippet:
        typer.echo("add this to the repos: list of .pre-commit-config.yaml (left unchanged):\n" + result.precommit_snippet)
    run = session(ctx)
    run.note("migguard: project initialised; copy vault/.env.example to vault/.env for the connection strings")


def _shown(path: Path) -> str:
    """A path as lint shows paths: relative to the working directory."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(path)
