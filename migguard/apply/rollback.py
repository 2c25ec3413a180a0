"""`migguard rollback`: undo the last applied migration(s) from the plan copy apply kept beside
its backup; dry run by default, with --confirm-live the same lockdown, lock, backup and audit
rules as apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migguard.apply.audit import AuditLog
from migguard.apply.audit_guard import check_log, guard_live
from migguard.apply.backup import Backup, take_backup
from migguard.apply.command import Progress, _backup_fields, _prod_url
from migguard.apply.history import read_applied
from migguard.apply.restore import Restored, restore_column, restore_table
from migguard.apply.runner import ApplyLock, remove_history
from migguard.config import Config
from migguard.db.connect import connect, describe
from migguard.errors import DatabaseError, InputError, LiveRefused, MigguardError
from migguard.plan import SavedPlan
from migguard.redact import redact_text

@dataclass(frozen=True)
class RollbackOptions:
    confirm_live: bool = False
    to_version: str | None = None  # roll back every migration applied after this one
    backup: str = "full"
    restore_data: bool = True
    prod_url: str | None = None


@dataclass
class RollbackOutcome:
    live: bool
    versions: list[str]
    text: str = ""
    restored: list[Restored] = field(default_factory=list)
    backup: Backup | None = None


def _saved_plan_for(config: Config, fingerprint: str | None) -> tuple[SavedPlan, Path | None]:
    """The plan copy apply kept beside its backup, and that backup."""
    directory = Path(config.root) / config.backup_dir
    if not fingerprint:
        raise InputError("the history has no plan fingerprint for this migration: it was not applied by migguard")
    plans = sorted(directory.glob(f"*-{fingerprint[:12]}.plan"))
    if not plans:
        raise InputError(f"no saved plan {fingerprint[:12]} in {directory}: the rollback script is missing")
    dumps = sorted(directory.glob(f"*-{fingerprint[:12]}.dump"))
    return SavedPlan.load(plans[-1]), (dumps[-1] if dumps else None)


def run_rollback(options: RollbackOptions, config: Config, progress: Progress = lambda _: None) -> RollbackOutcome:
    prod_url = _prod_url(options.prod_url, config)
    audit = AuditLog(Path(config.root) / config.audit_log)
    target = redact_text(prod_url)
    # Before anything else: the audit log verifies and holds production's head (a dry run only reads).
    audit = (guard_live(audit, "rollback", prod_url, config.history_table, config.lockdown_after)
             if options.confirm_live else check_log(audit, prod_url, config.history_table))
    with connect(prod_url) as conn:
        rows = read_applied(conn, config.history_table)
        conn.rollback()
    if not rows:
        raise InputError("nothing to roll back: the history table is empty")
    versions = [row.version for row in rows]
    if options.to_version is not None:
        if options.to_version not in versions:
            raise InputError(f"--to {options.to_version}: that version is not applied")
        chosen = rows[versions.index(options.to_version) + 1:]
    else:
        chosen = rows[-1:]
    chosen = list(reversed(chosen))
    if not chosen:
        return RollbackOutcome(options.confirm_live, [], text="-- nothing to roll back\n")
    scripts = []
    for row in chosen:
        plan, dump = _saved_plan_for(config, row.plan_fingerprint)
        scripts.append((row, plan, dump, plan.rollback_sql(row.version)))
    text = "".join(f"-- rollback of {row.version} ({row.name})\n{sql}" for row, _, _, sql in scripts)
    if not options.confirm_live:
        audit.append("rollback", result="dry-run", target=target, migrations=[r.version for r in chosen])
        return RollbackOutcome(False, [r.version for r in chosen], text=text)

    outcome = RollbackOutcome(True, [])
    try:
        with (ApplyLock(prod_url, config.history_table),
              audit.live_run("rollback", target=target, migrations=[r.version for r in chosen],
                             details={"backup": options.backup})):
            if options.backup != "none":
                progress("backup: pg_dump -Fc before the rollback")
                outcome.backup = take_backup(prod_url, Path(config.root) / config.backup_dir,
                                             "rollback" + chosen[0].plan_fingerprint[:4])
            with connect(prod_url) as conn:
                for row, plan, dump, sql_text in scripts:
                    progress(f"rolling back {row.version} ({row.name})")
                    try:
                        with conn.transaction():
                            conn.execute(f"SET LOCAL lock_timeout = '{config.lock_timeout}'")
                            conn.execute(sql_text)
                            remove_history(conn, config.history_table, row.version)
                        conn.commit()
                    except MigguardError:
                        raise
                    except Exception as error:  # psycopg errors: one redacted line
                        audit.append("rollback", result="failed", target=target, migrations=outcome.versions,
                                     details={"live": True, "failed": row.version, "error": describe(error)})
                        raise DatabaseError(f"rollback of {row.version} failed and was undone: {describe(error)}") from None
                    outcome.versions.append(row.version)
                    if options.restore_data and dump is not None:
                        outcome.restored += _restore_lossy(prod_url, plan, row.version, dump, progress)
    except LiveRefused as refused:
        audit.refused("rollback", refused, target=target, migrations=[r.version for r in chosen])
        raise
    audit.append("rollback", result="rolled-back", target=target, migrations=outcome.versions,
                 **_backup_fields(outcome.backup),
                 details={"live": True, "restored": [f"{r.object} ({r.rows} rows)" for r in outcome.restored]})
    return outcome


def _restore_lossy(url: str, plan: SavedPlan, version: str, dump: Path, progress: Progress) -> list[Restored]:
    restored = []
    for change in plan.lossy_changes(version):
        if change["kind"] == "drop table":
            restored.append(restore_table(url, dump, change["object"]))
        elif change["kind"] == "drop column":
            table, _, column = change["object"].rpartition(".")
            restored.append(restore_column(url, dump, table, column, plan.before))
        else:
            continue
        progress(f"restored {restored[-1].object} from {dump.name}: {restored[-1].rows} row(s)")
    return restored
