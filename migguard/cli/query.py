"""`migguard query`: read-only inspection of production (playbooks, sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from migguard.cli.common import ConfigOption, FormatOption, check_format, read_stdin, session, write_stdout


def query_command(
    ctx: typer.Context,
    playbook: Annotated[Optional[str], typer.Option("--playbook", help="Run this approved query from the playbooks file.")] = None,
    sandbox: Annotated[Optional[str], typer.Option("--sandbox", help="Run this ad-hoc read-only SQL (sandbox mode; '-' reads stdin).")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", help="A playbook parameter, NAME=VALUE (repeatable).")] = None,
    playbooks: Annotated[Optional[Path], typer.Option("--playbooks", help="Playbooks file (default: playbooks.yaml beside the config file).")] = None,
    tenant: Annotated[Optional[str], typer.Option("--tenant", help="Scope to this tenant: sets tenant_setting so row-level security applies.")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Statement timeout, e.g. 500ms, 5s, 2min.")] = "5s",
    limit: Annotated[int, typer.Option("--limit", min=1, help="Return at most this many rows.")] = 1000,
    list_playbooks: Annotated[bool, typer.Option("--list", help="List the playbooks and exit.")] = False,
    format: FormatOption = "text",
    config: ConfigOption = None,
) -> None:
    """Read-only inspection of production: an approved playbook or an explicit sandbox query."""
    from migguard.query.command import QueryOptions, load_playbooks, parse_params, playbooks_path, run_query
    from migguard.report.query import RENDERERS, render_playbooks

    check_format(format, allowed=tuple(RENDERERS))
    run = session(ctx)
    settings = run.load(config)
    options = QueryOptions(playbook=playbook, sandbox=read_stdin("<stdin>") if sandbox == "-" else sandbox,
                           params=parse_params(param or ()), playbooks_path=playbooks, tenant=tenant,
                           timeout=timeout, limit=limit)
    if list_playbooks:
        write_stdout(render_playbooks(load_playbooks(playbooks_path(options, settings)).values()))
        return
    result = run_query(options, settings)
    write_stdout(RENDERERS[format](result))
    run.note(f"migguard: {result.row_count} row(s)" + (f" (more rows exist: raise --limit {limit})" if result.truncated else "")
             + f" from {result.source}" + (f", tenant {result.tenant}" if result.tenant else "") + "; audited")
