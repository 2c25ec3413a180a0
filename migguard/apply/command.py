"""`migguard apply` as a plain function (`rollback.py` holds `migguard rollback`).

With --confirm-live, in order, stopping at the first failure: lockdown check, the advisory lock,
then under it the gates (history checksums, lint, destructive, fingerprint, drift, the plan's
findings; each finding passes only when accepted), backup, rollback script on disk, the runner
(which checks each migration's bytes against the plan's checksum right before running it),
verification against the plan's schema-after (production's schema restored on the shadow and
read there, as the plan read it), audit. Each migration file is read once, under
the lock: the gates and the runner see the same text.

Without --confirm-live (the dry run) the same gates run, except taking the lock; the plan, its
findings and the exact SQL are shown, nothing is written to production, and the outcome carries
the refusal the live run would meet: a dry run is the live run minus the writes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from migguard.apply import gates
from migguard.apply.audit_guard import HEAD_TABLE, audit_target, check_log, guard_live
from migguard.apply.backup import Backup, audit_fields, backup_name, take_backup
from migguard.apply.gates import Acceptance
from migguard.apply.restore import restore_command_column, restore_command_table
from migguard.apply.runner import ApplyLock, MigrationError, Runner, RunResult
from migguard.core.audit import AuditLog, check_not_locked, current_user, lockdown_identity, refusal_details
from migguard.core.config import Config, production_url, secret
from migguard.core.errors import DatabaseError, GateRefused, LiveRefused, MigguardError
from migguard.core.identifiers import comment_safe, key_parts, name_pattern, object_key
from migguard.core.sources import Migration, discover
from migguard.drift.clone import production_on_shadow
from migguard.pg import preflight
from migguard.pg.connect import connect
from migguard.pg.history import read_applied
from migguard.pg.scope import tenant_schema
from migguard.pg.shadow import ShadowServer, refuse_production_on_shadow, server_identity
from migguard.plan.command import PlanOptions, PlanRefused, SavedPlan, run_plan
from migguard.schema.diff import diff
from migguard.schema.model import SchemaModel

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ApplyOptions:
    confirm_live: bool = False
    allow_destructive: bool = False
    accept_drift: bool = False
    accept: tuple[str, ...] = ()  # finding ids accepted on the command line (--accept)
    strict: bool = False
    plan_path: Path | None = None
    backup: str = "full"  # full | affected | none
    prod_url: str | None = None
    shadow_url: str | None = None
    # Schema-per-tenant: the tenant's schema (its search_path, and all migguard reads; pg/scope.py).
    # The caller passes the tenant's history table in the config (fleet/targets.py: target_config).
    schema: str | None = None
    sibling_schemas: tuple[str, ...] = ()  # the other tenants of its database (left out of shadow clones)


@dataclass
class ApplyOutcome:
    live: bool
    plan: SavedPlan
    applied: list[str] = field(default_factory=list)
    backup: Backup | None = None
    rollback_path: Path | None = None
    accepted: list[Acceptance] = field(default_factory=list)
    text: str = ""  # what a dry run shows
    refusal: MigguardError | None = None  # dry run: why the live run would stop (None: it would proceed)


def _own(config: Config) -> str:
    return config.history_path[0]


def _history(config: Config, prod_url: str) -> tuple[list[Migration], list[Migration], dict[str, str]]:
    """Applied and pending migrations, and the checksum production recorded for each applied one."""
    migrations = discover(Path(config.root) / config.migrations, config.layout)
    with connect(prod_url) as conn:
        recorded = {row.version: row.checksum for row in read_applied(conn, config.history_table)}
        conn.rollback()
    return ([m for m in migrations if m.version in recorded], [m for m in migrations if m.version not in recorded],
            recorded)


def _gates(options: ApplyOptions, config: Config, plan: SavedPlan, prod_url: str,
           accepted: dict[str, Acceptance]) -> tuple[list[Migration], list[Acceptance]]:
    """Every gate that only reads, in the live order; the pending migrations (each file read here,
    once) and the acceptances that let a finding pass. Raises GateRefused at the first refusal."""
    applied, pending, recorded = _history(config, prod_url)
    used = gates.check_applied_checksums(applied, recorded, accepted)
    gates.check_lint(pending, config, options.allow_destructive, options.strict)
    gates.check_destructive(plan, options.allow_destructive)
    gates.check_fingerprint(plan, pending, prod_url, _own(config))
    used += gates.check_drift(plan, accepted)
    used += gates.check_plan_findings(plan, accepted, options.strict)
    return pending, list(dict.fromkeys(used))


def _refuse_production_on_shadow(options: ApplyOptions, config: Config, prod_url: str) -> None:
    """`apply --plan` starts no shadow before it writes (only its verification does, afterwards), so
    the shadow's own check that production is not its scratch space would come too late: run it
    here whenever a shadow is configured (exit 2). A shadow that does not answer cannot be the
    production that does."""
    shadow = options.shadow_url or secret("PG_SHADOW_URL", config)
    if not shadow:
        return
    try:
        server_identity(shadow)
    except DatabaseError:
        return
    refuse_production_on_shadow(prod_url, shadow)


def _plan(options: ApplyOptions, config: Config, prod_url: str, accepted: dict[str, Acceptance],
          progress: Progress) -> SavedPlan:
    if options.plan_path is not None:
        return SavedPlan.load(options.plan_path)
    progress("making a fresh plan first (use --plan to apply a saved one)")
    _report, made = run_plan(PlanOptions(continue_on_error=True, allow_destructive=options.allow_destructive,
                                         accept_drift=gates.DRIFT in accepted, strict=options.strict,
                                         prod_url=prod_url, shadow_url=options.shadow_url), config, progress)
    return SavedPlan.load(made.directory)


def _show_findings(plan: SavedPlan, accepted: dict[str, Acceptance], strict: bool, progress: Progress) -> None:
    for finding in gates.failing_findings(plan, strict):
        verdict = "accepted" if finding["rule"] in accepted else "REFUSES apply"
        progress(comment_safe(f"  {finding['severity']}[{finding['rule']}] {finding['path']}: {finding['message']} "
                           f"({verdict})"))


def run_apply(options: ApplyOptions, config: Config, progress: Progress = lambda _: None) -> ApplyOutcome:
    with tenant_schema(options.schema, options.sibling_schemas):
        return _run_apply(options, config, progress)


def _run_apply(options: ApplyOptions, config: Config, progress: Progress) -> ApplyOutcome:
    prod_url = production_url(config, options.prod_url)
    if options.plan_path is not None:
        _refuse_production_on_shadow(options, config, prod_url)
    audit = AuditLog(Path(config.root) / config.audit_log)
    target = audit_target(prod_url)
    accepted = gates.acceptances(config.accept, options.accept, options.accept_drift)
    live = options.confirm_live
    # Before anything else: the audit log verifies and holds production's head, and the caller is
    # not locked down (both audited); a dry run only reads.
    audit = (guard_live(audit, "apply", prod_url, config.history_table, config.lockdown_after)
             if live else check_log(audit, prod_url, config.history_table))
    try:
        plan = _plan(options, config, prod_url, accepted, progress)
    except PlanRefused as refused:
        failing = [f for f in refused.report.findings if f.severity == "error"]
        for finding in failing:
            progress(comment_safe(f"  error[{finding.rule}] {finding.path}: {finding.message}"))
            if finding.hint:
                progress(comment_safe(f"    = hint: {finding.hint}"))
        named = "; ".join(dict.fromkeys(comment_safe(f"{f.rule} at {f.path}") for f in failing))
        message = f"{refused.message}: {named}" if named else refused.message
        if live:
            audit.append("apply", result="refused", target=target, migrations=[],
                         details={"live": True, "reason": message, "reason_kind": "gate"})
        raise GateRefused(message) from None
    if not live:
        return _dry_run(options, config, plan, prod_url, accepted, audit, target, progress)

    user = current_user()
    outcome = ApplyOutcome(True, plan)

    def refuse(refused: MigguardError) -> None:
        audit.append("apply", result="refused", target=target, fingerprint=plan.fingerprint, migrations=plan.pending,
                     details={**refusal_details(refused), "accepted": [a.audit() for a in outcome.accepted]})

    try:
        with ApplyLock(prod_url, config.history_table):
            try:
                _show_findings(plan, accepted, options.strict, progress)
                pending, outcome.accepted = _gates(options, config, plan, prod_url, accepted)
                if pending:
                    _preflight(options, config, plan, prod_url)
            except (GateRefused, preflight.PreflightRefused) as refused:
                refuse(refused)
                raise
            for acceptance in outcome.accepted:
                progress(comment_safe(f"migguard: ACCEPTED {acceptance.describe()}"))
            if not pending:
                audit.append("apply", result="applied", target=target, fingerprint=plan.fingerprint, migrations=[],
                             details={"live": True, "note": "nothing pending",
                                      "accepted": [a.audit() for a in outcome.accepted]})
                return outcome
            # "started" before the backup: a run killed from here on still leaves its trace
            with audit.live_run("apply", target=target, fingerprint=plan.fingerprint, migrations=plan.pending,
                                details={"backup": options.backup}):
                result = _backup_and_run(options, config, plan, prod_url, pending, user, outcome, audit, target,
                                         refuse, progress)
    except LiveRefused as refused:  # the lock is held, or the backup failed: recorded once
        audit.refused("apply", refused, target=target, fingerprint=plan.fingerprint, migrations=plan.pending)
        raise
    audit.append("apply", result="applied", target=target, fingerprint=plan.fingerprint, migrations=outcome.applied,
                 **audit_fields(outcome.backup), details={"live": True, "retries": result.retries,
                                                           "rollback": str(outcome.rollback_path),
                                                           "accepted": [a.audit() for a in outcome.accepted]})
    return outcome


def _dry_run(options: ApplyOptions, config: Config, plan: SavedPlan, prod_url: str,
             accepted: dict[str, Acceptance], audit: AuditLog, target: str, progress: Progress) -> ApplyOutcome:
    """The live run minus the writes: the same gates (all but taking the lock), the same findings."""
    outcome = ApplyOutcome(False, plan)
    try:
        check_not_locked(audit, lockdown_identity(), config.lockdown_after)
        pending, outcome.accepted = _gates(options, config, plan, prod_url, accepted)
        if pending:
            _preflight(options, config, plan, prod_url)
    except (GateRefused, LiveRefused, preflight.PreflightRefused) as refused:
        outcome.refusal = refused
    for acceptance in outcome.accepted:
        progress(comment_safe(f"migguard: would accept {acceptance.describe()}"))
    audit.append("apply", result="dry-run", target=target, fingerprint=plan.fingerprint, migrations=plan.pending,
                 details={"live": False, "would_refuse": outcome.refusal.message if outcome.refusal else None,
                          "accepted": [a.audit() for a in outcome.accepted]})
    outcome.text = _dry_run_text(plan, accepted, options.strict, outcome.refusal)
    return outcome


def _backup_and_run(options: ApplyOptions, config: Config, plan: SavedPlan, prod_url: str, pending: list[Migration],
                    user: str, outcome: ApplyOutcome, audit: AuditLog, target: str,
                    refuse: Callable[[MigguardError], None], progress: Progress) -> RunResult:
    """Backup, rollback script, the runner, verification: the writes, under the lock and the started entry."""
    outcome.backup, outcome.rollback_path = _backup_and_rollback_script(
        options, config, plan, prod_url, progress)
    runner = Runner(prod_url, config.history_table, config.lock_timeout, config.statement_timeout,
                    config.lock_retries, plan.fingerprint, user, progress=progress,
                    max_lock_timeout=config.max_lock_timeout, max_statement_timeout=config.max_statement_timeout,
                    expected_checksums=plan.checksums())
    progress(f"applying {len(pending)} migration(s) (lock_timeout {config.lock_timeout}, "
             f"statement_timeout {config.statement_timeout})")
    try:
        result = runner.run(pending)
    except MigrationError as failure:
        outcome.applied = failure.result.applied
        undo = "".join(plan.rollback_sql(v) for v in reversed(outcome.applied))
        audit.append("apply", result="failed", target=target, fingerprint=plan.fingerprint,
                     migrations=outcome.applied, **audit_fields(outcome.backup),
                     details={"live": True, "failed": failure.migration.version, "error": failure.message,
                              "accepted": [a.audit() for a in outcome.accepted]})
        hint = (f"-- rollback of the migrations that did apply ({', '.join(outcome.applied)}):\n{undo}"
                if outcome.applied else None)
        raise DatabaseError(failure.message, detail=hint) from None
    except GateRefused as refused:  # the runner: a file's bytes are not those the gates checked
        refuse(refused)
        raise
    outcome.applied = result.applied
    progress("verifying production against the plan's schema-after")
    differences = diff(plan.after, _production_on_shadow(options, config, prod_url))
    if differences:
        audit.append("apply", result="failed", target=target, fingerprint=plan.fingerprint,
                     migrations=outcome.applied, **audit_fields(outcome.backup),
                     details={"live": True, "verify": [c.describe() for c in differences]})
        raise DatabaseError("applied, but production does not match the plan: "
                            + "; ".join(c.describe() for c in differences[:5]))
    return result


def _production_on_shadow(options: ApplyOptions, config: Config, prod_url: str) -> SchemaModel:
    """Production's schema read where the plan read its schema-after: restored on the shadow, so
    deparsing that differs between production's major and the shadow's (a view) is no difference."""
    with ShadowServer(options.shadow_url or secret("PG_SHADOW_URL", config), Path(config.root) / ".migguard",
                      production=prod_url) as shadow:
        return production_on_shadow(shadow, prod_url, _own(config))


def _affected(plan: SavedPlan) -> list[tuple[str, ...]]:
    """(schema, name) of the existing tables the plan changes, read from each change's
    (schema, name[, member]) path, so a dot or upper case inside a name matches only that table."""
    tables = set()
    for change in plan.document["changes"]:
        path = _path(change)
        for parts in (path, path[:2]):
            if object_key(*parts) in plan.before.tables:
                tables.add(parts)
                break
    return sorted(tables)


def _affected_tables(plan: SavedPlan) -> list[str]:
    """`pg_dump --table` patterns of the existing tables the plan changes."""
    return [name_pattern(*parts) for parts in _affected(plan)]


def _preflight(options: ApplyOptions, config: Config, plan: SavedPlan, prod_url: str) -> None:
    """What the backup and the writes need of the connecting role, checked before either starts
    (exit 3, one line per missing privilege; audited as refused, as a failed backup was)."""
    creates_in = {_path(c)[0] for c in plan.document["changes"] if c["kind"].startswith("create ")}
    affected = [tuple(parts) for parts in _affected(plan)]
    preflight.require(prod_url, preflight.Needs(
        history=preflight.own_tables(config.history_table, HEAD_TABLE), schema_dump=False, backup=options.backup,
        backup_tables=tuple(affected), writes=True, altered=tuple(affected),
        creates_in=tuple(sorted(s for s in creates_in if s in plan.before.schemas))), "what apply needs")


def _path(change: dict) -> tuple[str, ...]:
    """The names of a plan.json change: its structured path, never the dotted `object` split."""
    return tuple(change.get("path") or key_parts(change["object"]))


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
            lines.append(f"-- data of {change['object']}: {restore_command_table(*_path(change), backup.path)}")
        elif change["kind"] == "drop column":
            lines.append(f"-- data of {change['object']}: {restore_command_column(*_path(change), backup.path)}")
    return "\n".join(comment_safe(line) for line in lines) + "\n"  # names never end a comment


def _dry_run_text(plan: SavedPlan, accepted: dict[str, Acceptance], strict: bool,
                  refusal: MigguardError | None) -> str:
    """The plan, its findings, the exact SQL and the verdict. Every comment line is escaped to one
    line, so no object name or message can end a comment of text that may be fed to psql."""
    changes = plan.document["changes"]
    out: list[str] = []

    def comment(text: str) -> None:
        out.append("-- " + comment_safe(text))

    comment(f"DRY RUN: nothing is applied. Plan {plan.fingerprint[:12]}: migrations "
            f"{', '.join(plan.pending) or 'none'}, {len(changes)} change(s)")
    for change in changes:
        flags = [f for f in ("destructive", "lossy") if change[f]]
        comment(f"  {change['kind']} {change['object']}" + (f" ({', '.join(flags)})" if flags else ""))
    failing = gates.failing_findings(plan, strict)
    if failing:
        comment(f"findings of the plan that refuse apply unless accepted ({len(failing)}):")
        for finding in failing:
            acceptance = accepted.get(finding["rule"])
            verdict = f"accepted: {acceptance.describe()}" if acceptance else "not accepted"
            comment(f"  {finding['severity']}[{finding['rule']}] {finding['path']}: {finding['message']} ({verdict})")
    comment("forward (exactly what --confirm-live runs, one transaction per migration):")
    out.append(plan.forward_sql().rstrip())
    comment("rollback:")
    out.append(plan.rollback_sql().rstrip())
    comment(f"--confirm-live would REFUSE: {refusal.message}" if refusal is not None
            else "run again with --confirm-live to apply")
    return "\n".join(out) + "\n"

