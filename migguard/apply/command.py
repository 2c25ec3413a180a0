"""`migguard apply` as a plain function (`rollback.py` holds `migguard rollback`).

apply, without --confirm-live: the plan, the exact SQL and the rollback are shown; nothing is
touched. With it, in order, stopping at the first failure: lockdown check, gates (lint,
destructive, fingerprint, drift), advisory lock, backup, rollback script on disk, the runner,
verification against the plan's schema-after, audit. rollback follows the same rules.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from migguard.apply import gates
from migguard.apply.audit import AuditLog, current_user
from migguard.apply.audit_guard import check_log, guard_live
from migguard.apply.backup import Backup, backup_name, take_backup
from migguard.apply.history import read_applied
from migguard.apply.restore import restore_command_column, restore_command_table
from migguard.apply.runner import ApplyLock, MigrationError, Runner
from migguard.config import Config, secret
from migguard.db.connect import connect
from migguard.db.diff import diff
from migguard.db.introspect import introspect
from migguard.errors import DatabaseError, GateRefused, InputError, LiveRefused
from migguard.plan import PlanOptions, SavedPlan, run_plan
from migguard.redact import redact_text
from migguard.sources import Migration, discover

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ApplyOptions:
    confirm_live: bool = False
    allow_destructive: bool = False
    accept_drift: bool = False
    strict: bool = False
    plan_path: Path | None = None
    backup: str = "full"  # full | affected | none
    prod_url: str | None = None
    shadow_url: str | None = None


@dataclass
class ApplyOutcome:
    live: bool
    plan: SavedPlan
    applied: list[str] = field(default_factory=list)
    backup: Backup | None = None
    rollback_path: Path | None = None
    text: str = ""  # what a dry run shows


def _prod_url(explicit: str | None, config: Config) -> str:
    url = explicit or secret("PG_PROD_URL", config)
    if not url:
        raise InputError("PG_PROD_URL is not set (environment or the env file)")
    return url


def _own(config: Config) -> str:
    return config.history_table.partition(".")[0]


def _history(config: Config, prod_url: str) -> tuple[list[Migration], list[Migration], dict[str, str]]:
    """Applied and pending migrations, and the checksum production recorded for each applied one."""
    migrations = discover(Path(config.root) / config.migrations, config.layout)
    with connect(prod_url) as conn:
        recorded = {row.version: row.checksum for row in read_applied(conn, config.history_table)}
        conn.rollback()
    return ([m for m in migrations if m.version in recorded], [m for m in migrations if m.version not in recorded],
            recorded)


def run_apply(options: ApplyOptions, config: Config, progress: Progress = lambda _: None) -> ApplyOutcome:
    prod_url = _prod_url(options.prod_url, config)
    audit = AuditLog(Path(config.root) / config.audit_log)
    target = redact_text(prod_url)
    # Before anything else: the audit log verifies and holds production's head (a dry run only reads).
    audit = (guard_live(audit, "apply", prod_url, config.history_table, config.lockdown_after)
             if options.confirm_live else check_log(audit, prod_url, config.history_table))
    if options.plan_path is not None:
        plan = SavedPlan.load(options.plan_path)
    else:
        progress("making a fresh plan first (use --plan to apply a saved one)")
        _report, made = run_plan(PlanOptions(continue_on_error=True, allow_destructive=options.allow_destructive,
                                             accept_drift=options.accept_drift, prod_url=prod_url,
                                             shadow_url=options.shadow_url), config, progress)
        plan = SavedPlan.load(made.directory)
    if not options.confirm_live:
        audit.append("apply", result="dry-run", target=target, fingerprint=plan.fingerprint, migrations=plan.pending)
        return ApplyOutcome(False, plan, text=_dry_run_text(plan))

    user = current_user()
    applied, pending, recorded = _history(config, prod_url)
    try:
        gates.check_applied_checksums(applied, recorded)
        gates.check_lint(pending, config, options.allow_destructive, options.strict)
        gates.check_destructive(plan, options.allow_destructive)
        gates.check_fingerprint(plan, pending, prod_url, _own(config))
        gates.check_drift(plan, options.accept_drift)
    except GateRefused as refused:
        audit.append("apply", result="refused", target=target, fingerprint=plan.fingerprint, migrations=plan.pending,
                     details={"live": True, "reason": refused.message})
        raise
    if not pending:
        audit.append("apply", result="applied", target=target, fingerprint=plan.fingerprint, migrations=[],
                     details={"live": True, "note": "nothing pending"})
        return ApplyOutcome(True, plan)

    outcome = ApplyOutcome(True, plan)
    try:
        with (ApplyLock(prod_url, config.history_table),
              audit.live_run("apply", target=target, fingerprint=plan.fingerprint, migrations=plan.pending,
                             details={"backup": options.backup})):
            outcome.backup, outcome.rollback_path = _backup_and_rollback_script(
                options, config, plan, prod_url, progress)
            runner = Runner(prod_url, config.history_table, config.lock_timeout, config.statement_timeout,
                            config.lock_retries, plan.fingerprint, user, progress=progress)
            progress(f"applying {len(pending)} migration(s) (lock_timeout {config.lock_timeout}, "
                     f"statement_timeout {config.statement_timeout})")
            try:
                result = runner.run(pending)
            except MigrationError as failure:
                outcome.applied = failure.result.applied
                undo = "".join(plan.rollback_sql(v) for v in reversed(outcome.applied))
                audit.append("apply", result="failed", target=target, fingerprint=plan.fingerprint,
                             migrations=outcome.applied, **_backup_fields(outcome.backup),
                             details={"live": True, "failed": failure.migration.version, "error": failure.message})
                hint = (f"\n-- rollback of the migrations that did apply ({', '.join(outcome.applied)}):\n{undo}"
                        if outcome.applied else "")
                raise DatabaseError(failure.message + hint) from None
            outcome.applied = result.applied
            progress("verifying production against the plan's schema-after")
            actual = introspect(prod_url).without_schemas(_own(config))
            differences = diff(plan.after, actual)
            if differences:
                audit.append("apply", result="failed", target=target, fingerprint=plan.fingerprint,
                             migrations=outcome.applied, **_backup_fields(outcome.backup),
                             details={"live": True, "verify": [c.describe() for c in differences]})
                raise DatabaseError("applied, but production does not match the plan: "
                                    + "; ".join(c.describe() for c in differences[:5]))
    except LiveRefused as refused:
        audit.refused("apply", refused, target=target, fingerprint=plan.fingerprint, migrations=plan.pending)
        raise
    audit.append("apply", result="applied", target=target, fingerprint=plan.fingerprint, migrations=outcome.applied,
                 **_backup_fields(outcome.backup), details={"live": True, "retries": result.retries,
                                                           "rollback": str(outcome.rollback_path)})
    return outcome


def _backup_fields(backup: Backup | None) -> dict:
    return {"backup_path": str(backup.path) if backup else None, "backup_sha256": backup.sha256 if backup else None}


def _affected_tables(plan: SavedPlan) -> list[str]:
    tables = set()
    for change in plan.document["changes"]:
        obj = change["object"]
        candidate = obj if obj in plan.before.tables else obj.rpartition(".")[0]
        if candidate in plan.before.tables:
            tables.add(candidate)
    return sorted(tables)


def _backup_and_rollback_script(options: ApplyOptions, config: Config, plan: SavedPlan, prod_url: str,
                                progress: Progress) -> tuple[Backup | None, Path]:
    """Take the backup, then write the rollback script(s) beside it, before any statement runs."""
    directory = Path(config.root) / config.backup_dir
    name = backup_name(plan.fingerprint)
    backup = None
    if options.backup == "none":
        progress("WARNING: --no-backup: applying to production WITHOUT a backup (recorded in the audit log)")
    else:
        tables = _affected_tables(plan) if options.backup == "affected" else None
        progress(f"backup: pg_dump -Fc of {'tables ' + ', '.join(tables) if tables else 'the whole database'}")
        backup = take_backup(prod_url, directory, plan.fingerprint, tables, name.split("-")[0])
        progress(f"backup: {backup.path} ({backup.path.stat().st_size:,} bytes, sha256 {backup.sha256[:12]}…, "
                 f"verified with pg_restore --list)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        script = directory / f"{name}.rollback.sql"
        script.write_text(_rollback_header(plan, backup) + plan.rollback_sql(), encoding="utf-8")
        per_migration = directory / f"{name}.plan"
        if per_migration.exists():
            shutil.rmtree(per_migration)
        shutil.copytree(plan.directory, per_migration)
    except OSError as error:
        raise LiveRefused(f"cannot write the rollback script into {directory}: {error.strerror}") from None
    progress(f"rollback script: {script}")
    return backup, script


def _rollback_header(plan: SavedPlan, backup: Backup | None) -> str:
    lines = [f"-- migguard rollback of plan {plan.fingerprint[:12]} (migrations {', '.join(plan.pending)})",
             "-- run it with: migguard rollback --confirm-live (same backup, lock and audit rules as apply)"]
    for change in plan.lossy_changes():
        if backup is None:
            lines.append(f"-- {change['object']}: its data is LOST (applied with --no-backup)")
            continue
        if change["kind"] == "drop table":
            lines.append(f"-- data of {change['object']}: {restore_command_table(change['object'], backup.path)}")
        elif change["kind"] == "drop column":
            table, _, column = change["object"].rpartition(".")
            lines.append(f"-- data of {change['object']}: {restore_command_column(table, column, backup.path)}")
    return "\n".join(lines) + "\n"


def _dry_run_text(plan: SavedPlan) -> str:
    changes = plan.document["changes"]
    lines = [f"-- DRY RUN: nothing is applied. Plan {plan.fingerprint[:12]}: migrations {', '.join(plan.pending) or 'none'}, "
             f"{len(changes)} change(s)"]
    for change in changes:
        flags = [f for f in ("destructive", "lossy") if change[f]]
        lines.append(f"--   {change['kind']} {change['object']}" + (f" ({', '.join(flags)})" if flags else ""))
    lines.append("-- forward (exactly what --confirm-live runs, one transaction per migration):")
    lines.append(plan.forward_sql().rstrip())
    lines.append("-- rollback:")
    lines.append(plan.rollback_sql().rstrip())
    lines.append("-- run again with --confirm-live to apply")
    return "\n".join(lines) + "\n"
