"""Typer wiring only: options → options model → service call → render → exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from migguard import __version__
from migguard.core.errors import InputError, MigguardError
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

_DEBUG = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"migguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (errors still).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also say which config file is used.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain output (migguard prints no colour codes anyway).")] = False,
) -> None:
    global _DEBUG, _QUIET, _VERBOSE
    _DEBUG, _QUIET, _VERBOSE = debug, quiet, verbose and not quiet
    if no_color:
        os.environ["NO_COLOR"] = "1"


_QUIET = False
_VERBOSE = False


def _note(line: str) -> None:
    """Progress and summaries: stderr, unless --quiet (stdout carries only the report)."""
    if not _QUIET:
        typer.echo(line, err=True)


def _load(config: Optional[str]):
    """The configuration; with --verbose, say where it came from."""
    from migguard.core.config import load_config

    loaded = load_config(config)
    if _VERBOSE:
        _note(f"migguard: config {loaded.source or 'defaults (no migguard.toml or [tool.migguard] found)'}")
    return loaded


FormatOption = Annotated[str, typer.Option("--format", "-f", help="text | json | sarif | github | markdown")]
ConfigOption = Annotated[Optional[str], typer.Option("--config", help="Config file (default: migguard.toml or pyproject.toml, searched upward).")]


@app.command()
def lint(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files or directories ('-' reads stdin). Default: the configured migrations directory.")] = None,
    format: FormatOption = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of stdout.")] = None,
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

    _check_format(format)
    settings = _load(config)
    stdin_text = _read_stdin(stdin_filename) if paths and "-" in paths else None
    options = LintOptions(
        paths=tuple(paths or ()), stdin_text=stdin_text, stdin_filename=stdin_filename,
        changed_since=changed_since, select=tuple(select or ()), ignore=tuple(ignore or ()),
        allow_destructive=allow_destructive, strict=strict, pg_version=pg_version, use_cache=not no_cache, jobs=jobs,
    )
    report = run_lint(options, settings)
    _emit(report, format, output)
    summary = report.summary
    verdict = "gate passes" if report.ok else "gate refused"
    _note(f"migguard: {summary['files']} file(s), {summary['errors']} error(s), {summary['warnings']} warning(s), "
               f"{summary['infos']} info: {verdict}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)


@app.command()
def plan(
    format: FormatOption = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of stdout.")] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Without production: the git ref whose migrations count as applied.")] = None,
    continue_on_error: Annotated[bool, typer.Option("--continue-on-error", help="Plan even when lint finds errors.")] = False,
    accept_drift: Annotated[bool, typer.Option("--accept-drift", help="Report drift as warnings instead of refusing.")] = False,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Destructive statements are warnings.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the gate too.")] = False,
    select: Annotated[Optional[list[str]], typer.Option("--select", help="Lint step: only these rule ids or families.")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option("--ignore", help="Lint step: skip these rule ids or families.")] = None,
    config: ConfigOption = None,
) -> None:
    """Prove the pending migrations on a shadow database and write a plan with a verified rollback."""
    from migguard.plan.command import PlanOptions, PlanRefused, run_plan

    _check_format(format)
    settings = _load(config)
    options = PlanOptions(base=base, continue_on_error=continue_on_error, accept_drift=accept_drift,
                          allow_destructive=allow_destructive, strict=strict, select=tuple(select or ()),
                          ignore=tuple(ignore or ()))
    try:
        report, result = run_plan(options, settings, progress=_note)
    except PlanRefused as refused:
        _emit(refused.report.model_copy(update={"command": "plan", "ok": False}), format, output)
        _note(f"migguard: plan refused: {refused.message}")
        raise typer.Exit(ExitCode.GATE_REFUSED) from None
    _emit(report, format, output)
    if result.directory is not None:
        _note(f"migguard: plan written to {result.directory}")
    verdict = "gate passes" if report.ok else "gate refused"
    _note(f"migguard: {len(result.pending)} pending migration(s), {len(result.changes)} change(s), "
               f"rollback {'verified' if result.rollback_verified else 'NOT verified'}: {verdict}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)


@app.command()
def apply(
    confirm_live: Annotated[bool, typer.Option("--confirm-live", help="Really write to production (default: dry run).")] = False,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Allow destructive changes.")] = False,
    plan_file: Annotated[Optional[Path], typer.Option("--plan", help="Apply this saved plan (directory or plan.json).")] = None,
    backup: Annotated[str, typer.Option("--backup", help="full | affected (only the tables the plan touches).")] = "full",
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Apply WITHOUT a backup (loud, and audited).")] = False,
    accept_drift: Annotated[bool, typer.Option("--accept-drift", help="Apply although production drifted (accepts schema-drift).")] = False,
    accept: Annotated[Optional[list[str]], typer.Option("--accept", metavar="FINDING_ID", help="Apply despite this plan finding (repeatable; printed and audited).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings refuse too.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show (dry run) or, with --confirm-live, apply the pending migrations to production.

    The dry run runs the same gates and exits with the code the live run would have."""
    from migguard.apply.command import ApplyOptions, run_apply

    if backup not in ("full", "affected"):
        raise InputError(f"--backup takes full or affected, not '{backup}'")
    options = ApplyOptions(confirm_live=confirm_live, allow_destructive=allow_destructive, accept_drift=accept_drift,
                           accept=tuple(accept or ()), strict=strict, plan_path=plan_file,
                           backup="none" if no_backup else backup)
    outcome = run_apply(options, _load(config), progress=_note)
    if not outcome.live:
        sys.stdout.write(outcome.text)
        if outcome.refusal is not None:
            raise outcome.refusal
        _note("migguard: dry run: nothing was applied; the gates pass (add --confirm-live to apply)")
        return
    _note(f"migguard: applied {len(outcome.applied)} migration(s)"
               + (f" ({', '.join(outcome.applied)})" if outcome.applied else "")
               + (f"; backup {outcome.backup.path}" if outcome.backup else "")
               + (f"; rollback script {outcome.rollback_path}" if outcome.rollback_path else ""))


@app.command()
def rollback(
    confirm_live: Annotated[bool, typer.Option("--confirm-live", help="Really roll back production (default: dry run).")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Roll back every migration applied after this version (one transaction).")] = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Roll back although it destroys data written since the apply.")] = False,
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Roll back WITHOUT a backup first (audited).")] = False,
    no_restore_data: Annotated[bool, typer.Option("--no-restore-data", help="Do not restore dropped data from the apply's backup (it is lost).")] = False,
    config: ConfigOption = None,
) -> None:
    """Show (dry run) or, with --confirm-live, run the rollback of the last applied migration(s)."""
    from migguard.apply.rollback import RollbackOptions, run_rollback
    from migguard.core.errors import GateRefused

    options = RollbackOptions(confirm_live=confirm_live, to_version=to, backup="none" if no_backup else "full",
                              restore_data=not no_restore_data, allow_destructive=allow_destructive)
    outcome = run_rollback(options, _load(config), progress=_note)
    if not outcome.live:
        sys.stdout.write(outcome.text)
        if outcome.refusal:  # the dry run exits as the live run would
            raise GateRefused(outcome.refusal)
        _note("migguard: dry run: nothing was rolled back (add --confirm-live)")
        return
    restored = "; ".join(f"{r.object}: {r.rows} row(s) restored" for r in outcome.restored)
    _note(f"migguard: rolled back {', '.join(outcome.versions) or 'nothing'}" + (f"; {restored}" if restored else ""))


@app.command()
def status(
    format: FormatOption = "text",
    no_drift: Annotated[bool, typer.Option("--no-drift", help="Skip the drift check (no shadow needed).")] = False,
    config: ConfigOption = None,
) -> None:
    """Applied, pending and edited migrations, and schema drift of production."""
    import json

    from migguard.drift.status import run_status

    _check_format(format, allowed=("text", "json"))
    result = run_status(_load(config), check_drift=not no_drift)
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


@app.command("diff")
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

    _check_format(format, allowed=("text", "json"))
    result = compare(source, target, _load(config))
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


shadow_app = typer.Typer(help="Keep a shadow PostgreSQL running between commands (faster plans).", no_args_is_help=True)
app.add_typer(shadow_app, name="shadow")


def _state_dir(config: Optional[str]) -> Path:

    return Path(_load(config).root) / ".migguard"


@shadow_app.command("start")
def shadow_start(
    pg_version: Annotated[Optional[int], typer.Option("--pg-version", help="Major version (default: production's when PG_PROD_URL is set, else the installed server with the most extensions).")] = None,
    config: ConfigOption = None,
) -> None:
    """Start a shadow cluster and leave it running (state in .migguard/shadow.json)."""
    from migguard.core.config import secret
    from migguard.pg.shadow import start_persistent

    loaded = _load(config)
    state = start_persistent(Path(loaded.root) / ".migguard", pg_version, production=secret("PG_PROD_URL", loaded))
    typer.echo(f"shadow running: PostgreSQL {state['major']} in {state['directory']}")


@shadow_app.command("stop")
def shadow_stop(config: ConfigOption = None) -> None:
    """Stop the kept shadow cluster and delete its data."""
    from migguard.pg.shadow import stop_persistent

    typer.echo("shadow stopped" if stop_persistent(_state_dir(config)) else "no shadow was running")


@shadow_app.command("status")
def shadow_status(config: ConfigOption = None) -> None:
    """Say whether a kept shadow cluster is running (exit 1 when not)."""
    from migguard.pg.shadow import read_state, running_shadow_url

    directory = _state_dir(config)
    state = read_state(directory)
    if state and running_shadow_url(directory):
        typer.echo(f"shadow running: PostgreSQL {state['major']} in {state['directory']} since {state['started_at']}")
        return
    typer.echo("no shadow running")
    raise typer.Exit(ExitCode.GATE_REFUSED)


audit_app = typer.Typer(help="The hash-chained audit log of live operations and refusals.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    log: Annotated[Optional[Path], typer.Option("--log", help="Audit log to check (default: audit_log from the config).")] = None,
    prod: Annotated[bool, typer.Option("--prod", help="Also check that the log holds the head production recorded (PG_PROD_URL; read only).")] = False,
    config: ConfigOption = None,
) -> None:
    """Verify the audit log's hash chain; report the first broken entry (exit 1)."""
    from migguard.core.audit import AuditLog, verify

    settings = _load(config) if log is None or prod else None
    log = log if log is not None else Path(settings.root) / settings.audit_log
    result = verify(log)
    if not result.ok:
        typer.echo(f"audit log broken at line {result.broken_line}: {result.reason}")
        raise typer.Exit(ExitCode.GATE_REFUSED)
    held = ""
    if prod:
        from migguard.apply.audit_guard import head_problem, production_head
        from migguard.core.config import production_url

        stored = production_head(production_url(settings), settings.history_table)
        problem = head_problem(AuditLog(log), stored)
        if problem:
            typer.echo(problem)
            raise typer.Exit(ExitCode.GATE_REFUSED)
        held = f"; holds production's head (line {stored.head.lines})" if stored else "; production has no head yet"
    typer.echo(f"audit log OK: {result.entries} entries" + ("" if log.exists() else f" (no log at {log} yet)") + held)


@audit_app.command("restart")
def audit_restart(
    reason: Annotated[str, typer.Option("--reason", help="What was investigated, and why a new log is started (audited).")],
    confirm_live: Annotated[bool, typer.Option("--confirm-live", help="Really move the log aside and reset production's audit head.")] = False,
    config: ConfigOption = None,
) -> None:
    """After investigating a broken or disowned audit log: move it aside and start a new one (audited)."""
    from migguard.apply.audit_guard import restart
    from migguard.core.audit import AuditLog
    from migguard.core.config import production_url

    settings = _load(config)
    outcome = restart(AuditLog(Path(settings.root) / settings.audit_log), production_url(settings),
                      settings.history_table, reason, settings.lockdown_after, confirm_live)
    sys.stdout.write(outcome.text)
    _note("migguard: new audit log started; live runs are allowed again" if outcome.live
          else "migguard: dry run: nothing was changed (add --confirm-live)")


rls_app = typer.Typer(help="Row level security: catalog audit and tenant-isolation probe.", no_args_is_help=True)
app.add_typer(rls_app, name="rls")


@rls_app.command("check")
def rls_check(
    probe: Annotated[bool, typer.Option("--probe", help="Also prove isolation with two tenants' rows on a shadow clone.")] = False,
    url: Annotated[Optional[str], typer.Option("--url", help="Database to check (default: PG_PROD_URL). Only read.")] = None,
    format: FormatOption = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of stdout.")] = None,
    config: ConfigOption = None,
) -> None:
    """Audit row level security of a database; --probe tries to break tenant isolation on a copy."""
    from migguard.rls.command import run_rls_check

    _check_format(format)
    report = run_rls_check(_load(config), url, probe)
    _emit(report, format, output)
    _note(f"migguard: rls check: {report.summary['errors']} error(s), {report.summary['warnings']} warning(s)"
               f"{' (audit and probe)' if probe else ' (audit; add --probe to test isolation)'}: "
               f"{'gate passes' if report.ok else 'gate refused'}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)


@app.command("query")
def query_command(
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
    from migguard.query.command import RENDERERS, QueryOptions, load_playbooks, parse_params, playbooks_path, run_query

    _check_format(format, allowed=tuple(RENDERERS))
    settings = _load(config)
    options = QueryOptions(playbook=playbook, sandbox=_read_stdin("<stdin>") if sandbox == "-" else sandbox,
                           params=parse_params(param or ()), playbooks_path=playbooks, tenant=tenant,
                           timeout=timeout, limit=limit)
    if list_playbooks:
        for book in load_playbooks(playbooks_path(options, settings)).values():
            typer.echo(f"{book.name}  ({', '.join(book.params) or 'no params'}{'; tenant_scoped' if book.tenant_scoped else ''})  {book.description}")
        return
    result = run_query(options, settings)
    _write_stdout(RENDERERS[format](result))
    _note(f"migguard: {result.row_count} row(s)" + (f" (more rows exist: raise --limit {limit})" if result.truncated else "")
               + f" from {result.source}" + (f", tenant {result.tenant}" if result.tenant else "") + "; audited")


@app.command("scan-app")
def scan_app_command(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="Application source files or directories.")],
    schema: Annotated[Optional[str], typer.Option("--schema", help="Schema snapshot JSON (e.g. a plan's schema-after.json): its tables with the tenant column are monitored.")] = None,
    tables: Annotated[Optional[list[str]], typer.Option("--tables", help="Monitored tables, comma-separated (repeatable).")] = None,
    allowlist: Annotated[Optional[str], typer.Option("--allowlist", help="Allowlist file (default: .migguard-allow here and above the scanned paths).")] = None,
    format: FormatOption = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of stdout.")] = None,
    config: ConfigOption = None,
) -> None:
    """Tenant-isolation lint of application code: SQL strings and ORM calls without the tenant filter."""
    from migguard.scan.scanner import ScanOptions, run_scan

    _check_format(format)
    options = ScanOptions(paths=tuple(paths), schema=schema, tables=tuple(tables or ()), allowlist=allowlist)
    report = run_scan(options, _load(config))
    _emit(report, format, output)
    summary = report.summary
    _note(f"migguard: scan-app: {summary['files']} file(s), {summary['tables']} tenant table(s), "
               f"{summary['errors']} violation(s), {summary['allowlisted']} allowlisted: "
               f"{'gate passes' if report.ok else 'gate refused'}")
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.GATE_REFUSED)


@app.command("new")
def new_command(
    name: Annotated[str, typer.Argument(help="The migration's name, e.g. add_invoice_due_date (a name, not a path).")],
    template: Annotated[str, typer.Option("--template", "-t", help="feature (a migration, in `migrations`) | seed (in `seeds`).")],
    config: ConfigOption = None,
) -> None:
    """Create a migration or seed file from a template, numbered after the newest, inside the write path."""
    from migguard.project.new import NewOptions, run_new

    result = run_new(NewOptions(name=name, template=template), _load(config))
    for path in result.files:
        typer.echo(_shown(path))
    for warning in result.warnings:
        _note(f"migguard: warning: {warning}")
    _note(f"migguard: created {template} {result.version} ({result.layout} layout) from {_shown(result.template)}")


@app.command("init")
def init_command(
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
    _note("migguard: project initialised; copy vault/.env.example to vault/.env for the connection strings")


def _shown(path: Path) -> str:
    """A path as lint shows paths: relative to the working directory."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(path)


@app.command("rules")
def list_rules(format: FormatOption = "text") -> None:
    """List every rule: id, default severity, family and summary."""
    import json

    from migguard.lint.rules import ALL_RULES
    from migguard.rls.findings import DATABASE_RULES
    from migguard.scan.findings import SCAN_RULES

    rules = sorted((*ALL_RULES, *DATABASE_RULES, *SCAN_RULES), key=lambda r: r.id)  # static, database, scan-app
    if format == "json":
        typer.echo(json.dumps([{"id": r.id, "severity": r.default_severity.value, "family": r.family,
                                "destructive": r.destructive, "summary": r.summary} for r in rules], indent=2))
        return
    _check_format(format, allowed=("text", "json"))
    width = max(len(r.id) for r in rules)
    for rule in rules:
        typer.echo(f"{rule.id:<{width}}  {rule.default_severity.value:<7}  {rule.family:<13}  {rule.summary}")


@app.command()
def explain(rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. ban-drop-column.")]) -> None:
    """Print a rule's documentation."""
    from migguard.lint.rules import RULES_BY_ID
    from migguard.scan.findings import by_id as scan_rules

    rule = RULES_BY_ID.get(rule_id) or scan_rules.get(rule_id)
    if rule is None:
        from migguard.rls.findings import by_id

        rule = by_id.get(rule_id)
    if rule is None:
        raise InputError(f"unknown rule id '{rule_id}' (see `migguard rules`)")
    flags = ", destructive (refused unless --allow-destructive)" if rule.destructive else ""
    typer.echo(f"# {rule.id}\n\n{rule.summary}.\nDefault severity: {rule.default_severity.value}; family: {rule.family}{flags}.\n")
    typer.echo(rule.doc.strip())


def _read_stdin(name: str) -> str:
    """Standard input as SQL text: UTF-8, a BOM dropped, as a file would be read."""
    from migguard.core.sources import decode_sql

    return decode_sql(name, sys.stdin.buffer.read())


def _check_format(name: str, allowed: tuple[str, ...] | None = None) -> None:
    from migguard.report import FORMAT_NAMES

    choices = allowed or FORMAT_NAMES
    if name not in choices:
        raise InputError(f"unknown format '{name}' (choose from: {', '.join(choices)})")


def _emit(report, format: str, output: Path | None) -> None:
    """Render the report to stdout or --output; with --format github also fill the job summary."""
    from migguard.report import renderer

    text = renderer(format)(report)
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {output}: {error.strerror}") from None
    else:
        _write_stdout(text)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if format == "github" and summary_path:
        try:
            with open(summary_path, "a", encoding="utf-8") as handle:
                handle.write(renderer("markdown")(report))
        except OSError as error:
            raise InputError(f"cannot write GITHUB_STEP_SUMMARY: {error.strerror}") from None


def _error(message: str, prefix: str = "migguard: error: ", detail: str | None = None) -> None:
    """Print an error as exactly one redacted line on stderr (a newline in a path is shown as \\n),
    then its detail, if any, as indented lines (SQL to undo what stayed applied, say)."""
    line = redact_text(message).replace("\r", "\\r").replace("\n", "\\n")
    typer.echo(f"{prefix}{line}", err=True)
    for extra in (redact_text(detail).splitlines() if detail else ()):
        typer.echo(f"    {extra}".rstrip(), err=True)


def _write_stdout(text: str) -> None:
    """Write the report; a stdout that cannot encode it (C locale, cp1252) gets UTF-8, as --output does."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:  # nothing was written: the whole text is encoded before any byte goes out
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every error into one redacted line and its exit code."""
    try:  # typer ≥ 0.29 vendors click; older releases depend on it
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover
        from click import exceptions as click

    try:
        # Without standalone mode, a typer.Exit comes back as the return value.
        code = app(args=argv, standalone_mode=False, prog_name="migguard")
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except MigguardError as error:
        if _DEBUG:
            raise
        _error(error.message, detail=error.detail)
        sys.exit(error.exit_code)
    except RecursionError:  # input nested deeper than a tree walk can follow: bad input, not a defect
        if _DEBUG:
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
        if _DEBUG:
            raise
        message = str(error).splitlines()[0] if str(error) else ""
        _error(f"{type(error).__name__}: {message} (a defect in migguard: please report it with the output of "
               "the same command run with --debug)", prefix="migguard: internal error: ")
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
