"""`migguard rollback`: undo the last applied migration(s) from the plan copy apply kept beside
its backup; dry run by default, with --confirm-live under the same lockdown, lock, backup,
timeouts, lock retries and audit as apply.

All or nothing: every migration rolled back (one, or all those after `--to`) is undone in ONE
transaction: each one's structural reverse, the data its lossy changes dropped (read from apply's
backup and COPYed over the same connection), its sequences' values, and its history row. Any
failure rolls all of it back and production is exactly as before (audited, exit 3).

Refused before anything runs (exit 1, audited): a change the generated rollback cannot undo
(`reverse: null` in plan.json: a renamed enum value, an added one), a plan whose rollback was
not verified, data that cannot come back (no backup, no row key, not in the backup) unless
`--no-restore-data` says to lose it, and a reverse that destroys data written since the apply
(an added column holding values, a created table holding rows) unless `--allow-destructive`.
The counts are shown in the dry run, and checked again under lock inside the transaction.

The reverse runs change by change from plan.json (the statements rollback.sql holds, without its
comments), so a name in a comment can never become a statement.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pglast
import psycopg
from pglast.stream import RawStream
from psycopg import sql

from migguard.apply.audit_guard import HEAD_TABLE, audit_target, check_log, guard_live
from migguard.apply.backup import Backup, audit_fields, take_backup
from migguard.apply.restore import (
    Restored, qualified_parts, read_sequence, restore_column, restore_sequence, restore_table, table_columns,
)
from migguard.apply.runner import ApplyLock, remove_history
from migguard.core.audit import AuditLog, error_text, refusal_details
from migguard.core.config import Config, production_url
from migguard.core.errors import DatabaseError, GateRefused, InputError, LiveRefused
from migguard.core.identifiers import comment_safe, key_parts, object_key
from migguard.pg import preflight
from migguard.pg.cluster import Binaries
from migguard.pg.connect import connect, describe
from migguard.pg.history import AppliedMigration, read_applied
from migguard.pg.scope import tenant_schema
from migguard.pg.tools import client_for, server_major
from migguard.plan.command import SavedPlan
from migguard.schema.model import SchemaModel, Table, row_key

# Changes the generated rollback leaves in place because keeping them is harmless and re-applying
# the migration is a no-op (a validated constraint stays validated).
HARMLESS_IRREVERSIBLE = frozenset({"validate constraint"})
# Lossy changes whose data `restore.py` brings back.
RESTORED_KINDS = frozenset({"drop table", "drop column", "recreate generated column"})

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RollbackOptions:
    confirm_live: bool = False
    to_version: str | None = None  # roll back every migration applied after this one
    backup: str = "full"
    restore_data: bool = True
    allow_destructive: bool = False  # the reverse may destroy data written since the apply
    prod_url: str | None = None
    schema: str | None = None  # schema-per-tenant: as ApplyOptions.schema
    sibling_schemas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Destroyed:
    """Data the structural reverse destroys: non-NULL values of an added column, rows of a created table."""

    object: str
    rows: int


@dataclass(frozen=True)
class RestoreJob:
    kind: str  # table | column | sequence | identity
    schema: str
    name: str
    column: str | None = None
    table: Table | None = None
    value: tuple[int, bool] | None = None  # sequences: (value, is_called) from the backup

    @property
    def object(self) -> str:
        return ".".join(p for p in (self.schema, self.name, self.column) if p)


@dataclass
class Step:
    """One applied migration to undo, with the plan apply kept for it and the backup apply took."""

    row: AppliedMigration
    plan: SavedPlan
    dump: Path | None
    changes: list[dict]  # this migration's changes, in forward order
    jobs: list[RestoreJob] = field(default_factory=list)

    @property
    def reverses(self) -> list[dict]:
        return [c for c in reversed(self.changes) if c["reverse"]]

    @property
    def irreversible(self) -> list[dict]:
        return [c for c in self.changes if c["reverse"] is None and c["kind"] not in HARMLESS_IRREVERSIBLE]

    @property
    def left_in_place(self) -> list[dict]:
        return [c for c in self.changes if c["reverse"] is None and c["kind"] in HARMLESS_IRREVERSIBLE]


@dataclass
class RollbackOutcome:
    live: bool
    versions: list[str]
    text: str = ""
    restored: list[Restored] = field(default_factory=list)
    destroyed: list[Destroyed] = field(default_factory=list)
    backup: Backup | None = None
    refusal: str | None = None  # dry run: why the live run would refuse (exit 1)


def run_rollback(options: RollbackOptions, config: Config, progress: Progress = lambda _: None) -> RollbackOutcome:
    with tenant_schema(options.schema, options.sibling_schemas):
        return _run_rollback(options, config, progress)


def _run_rollback(options: RollbackOptions, config: Config, progress: Progress) -> RollbackOutcome:
    prod_url = production_url(config, options.prod_url)
    audit = AuditLog(Path(config.root) / config.audit_log)
    target = audit_target(prod_url)
    # Before anything else: the audit log verifies and holds production's head, and the caller is
    # not locked down (both audited); a dry run only reads.
    audit = (guard_live(audit, "rollback", prod_url, config.history_table, config.lockdown_after)
             if options.confirm_live else check_log(audit, prod_url, config.history_table))
    if not options.confirm_live:
        steps = _steps(prod_url, config, options.to_version)
        versions = [s.row.version for s in steps]
        if not steps:
            return RollbackOutcome(False, [], text="-- nothing to roll back\n")
        destroyed, refusal = _gates(prod_url, config, steps, options)
        if not refusal:
            _preflight(prod_url, config, options)  # exit 3 as the live run would, nothing read further
        audit.append("rollback", result="dry-run", target=target, migrations=versions,
                     details={"destroys": [f"{d.object}: {d.rows}" for d in destroyed], "refusal": refusal})
        return RollbackOutcome(False, versions, text=_dry_run_text(steps, destroyed, options, refusal),
                               destroyed=destroyed, refusal=refusal)

    outcome = RollbackOutcome(True, [])
    versions: list[str] = []
    try:
        with ApplyLock(prod_url, config.history_table):
            steps = _steps(prod_url, config, options.to_version)  # read under the lock: no apply in between
            versions = [s.row.version for s in steps]
            if not steps:
                return RollbackOutcome(True, [], text="-- nothing to roll back\n")
            outcome.destroyed, refusal = _gates(prod_url, config, steps, options)
            if refusal:
                raise GateRefused(refusal)
            _preflight(prod_url, config, options)
            # "started" before the backup: a run killed from here on still leaves its trace
            with audit.live_run("rollback", target=target, migrations=versions, details={"backup": options.backup}):
                if options.backup != "none":
                    progress("backup: pg_dump -Fc before the rollback")
                    outcome.backup = take_backup(prod_url, Path(config.root) / config.backup_dir,
                                                 "rollback" + steps[0].row.plan_fingerprint[:4])
                else:
                    progress("WARNING: --no-backup: rolling back WITHOUT a backup first (recorded in the audit log)")
                try:
                    outcome.restored = _execute(prod_url, config, steps, options, progress)
                except Exception as error:  # audited with the backup the rollback took first
                    audit.failed("rollback", error, target=target, migrations=versions, **audit_fields(outcome.backup),
                                 details={"failed": ", ".join(versions)})  # one transaction: all of them
                    raise
                outcome.versions = versions
    except BaseException as error:  # every failure is audited once, with the tool's real error
        if not audit.recorded(error):
            refused = isinstance(error, (GateRefused, LiveRefused, preflight.PreflightRefused))
            audit.append("rollback", result="refused" if refused else "failed", target=target, migrations=versions,
                         **audit_fields(outcome.backup),
                         details=refusal_details(error) if refused else {"live": True, "error": error_text(error)})
        raise
    audit.append("rollback", result="rolled-back", target=target, migrations=outcome.versions,
                 **audit_fields(outcome.backup),
                 details={"live": True, "restored": [f"{r.object} ({r.rows} rows)" for r in outcome.restored],
                          "destroyed": [f"{d.object} ({d.rows} rows)" for d in outcome.destroyed],
                          "no_restore_data": not options.restore_data, "no_backup": options.backup == "none"})
    return outcome


def _preflight(prod_url: str, config: Config, options: RollbackOptions) -> None:
    """What the backup and the history writes need of the connecting role, checked before either
    starts (exit 3, one line per missing privilege), as apply checks them."""
    preflight.require(prod_url, preflight.Needs(
        history=preflight.own_tables(config.history_table, HEAD_TABLE), schema_dump=False,
        backup=options.backup, writes=True), "what rollback needs")


# --- what to undo --------------------------------------------------------------------------------


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


def _steps(prod_url: str, config: Config, to_version: str | None) -> list[Step]:
    """The migrations to undo, newest first."""
    with connect(prod_url) as conn:
        rows = read_applied(conn, config.history_table)
        conn.rollback()
    if not rows:
        raise InputError("nothing to roll back: the history table is empty")
    versions = [row.version for row in rows]
    if to_version is not None:
        if to_version not in versions:
            raise InputError(f"--to {to_version}: that version is not applied")
        chosen = rows[versions.index(to_version) + 1:]
    else:
        chosen = rows[-1:]
    steps = []
    for row in reversed(chosen):
        plan, dump = _saved_plan_for(config, row.plan_fingerprint)
        entry = next((m for m in plan.document.get("migrations", []) if m["version"] == row.version), None)
        if entry is None:
            raise InputError(f"the saved plan {row.plan_fingerprint[:12]} has no changes recorded for {row.version}")
        steps.append(Step(row, plan, dump, list(entry["changes"])))
    return steps


def _path(change: dict, parts: int, plan: SavedPlan) -> tuple[str, ...]:
    """(schema, name) or (schema, table, column) of a change: its structured `path` when the plan
    has one; else the dotted name read against the plan's schemas (a table's key is the longest
    one the name starts with, so a dot or a newline inside a name does not cut it), else its key's parts."""
    path = change.get("path")
    if path and len(path) == parts:
        return tuple(path)
    obj = change["object"]
    tables = {**plan.after.tables, **plan.before.tables, **plan.before.sequences, **plan.after.sequences}
    if parts == 2 and obj in tables:
        return tables[obj].schema_name, tables[obj].name
    if parts == 3:
        owner = max((k for k in tables if obj.startswith(k + ".")), key=len, default=None)
        if owner is not None:
            return tables[owner].schema_name, tables[owner].name, obj[len(owner) + 1:]
    try:
        found = key_parts(obj)
    except ValueError:
        found = ()
    if len(found) != parts:
        raise InputError(f"the saved plan names an object it does not describe: {comment_safe(obj)}")
    return found


# --- the gates ---------------------------------------------------------------------------------


def _gates(prod_url: str, config: Config, steps: list[Step], options: RollbackOptions) -> tuple[list[Destroyed], str | None]:
    """What the reverse destroys, and why the live run refuses (None: it proceeds). Reads only."""
    problems = []
    for step in steps:
        if step.irreversible:
            problems.append(f"{step.row.version} has changes the rollback cannot undo: "
                            + "; ".join(comment_safe(f"{c['kind']} {c['object']}") for c in step.irreversible)
                            + " (undo them in a new migration instead)")
        if not step.plan.document.get("rollback", {}).get("verified", False):
            problems.append(f"the rollback of plan {step.plan.fingerprint[:12]} ({step.row.version}) was not verified "
                            "on the shadow")
    binaries = client_for(server_major(prod_url))
    lost = []
    for step in steps:
        step.jobs, missing = _restore_jobs(step, binaries) if options.restore_data else ([], [])
        lost += missing
    if lost:
        problems.append("data that cannot come back: " + "; ".join(lost)
                        + " (--no-restore-data rolls back the structure and loses it)")
    destroyed = []
    with connect(prod_url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(config.statement_timeout)))
        for step in steps:
            destroyed += [d for d in (_count(conn, target) for target in _destroying(step)) if d and d.rows]
    if destroyed and not options.allow_destructive:
        problems.append("the rollback destroys data: "
                        + "; ".join(f"{comment_safe(d.object)} ({d.rows} row(s))" for d in destroyed)
                        + " (--allow-destructive to roll back anyway)")
    return destroyed, ("rollback refused: " + "; ".join(problems)) if problems else None


@dataclass(frozen=True)
class _Target:
    """Data a reverse destroys: rows of a created table, values of an added column, or values of a
    retyped column that do not survive the cast back to `old_type`."""

    schema: str
    table: str
    column: str | None
    object: str
    old_type: str | None = None
    new_type: str | None = None


def _destroying(step: Step) -> list[_Target]:
    found = []
    for change in step.changes:
        if change["kind"] == "add column":
            found.append(_Target(*_path(change, 3, step.plan), change["object"]))
        elif change["kind"] == "create table":
            schema, table = _path(change, 2, step.plan)
            created = step.plan.after.tables.get(object_key(schema, table))
            if created is None or created.kind != "partitioned table":  # its partitions hold the rows
                found.append(_Target(schema, table, None, change["object"]))
        elif change["kind"] == "alter column type":
            schema, table, column = _path(change, 3, step.plan)
            old, new = (model.tables.get(object_key(schema, table)) for model in (step.plan.before, step.plan.after))
            if old and new and column in old.columns and column in new.columns:
                found.append(_Target(schema, table, column, change["object"], old.columns[column].type,
                                     new.columns[column].type))
    return found


def _type_name(text: str) -> sql.SQL:
    """A type name from the plan as SQL: parsed by PostgreSQL's grammar and printed back from the
    parse tree, so nothing but a type name can come out of it."""
    try:
        statements = pglast.parse_sql(f"SELECT NULL::{text}")
        cast = statements[0].stmt.targetList[0].val
        if len(statements) != 1 or type(cast).__name__ != "TypeCast":
            raise ValueError(text)
        return sql.SQL(RawStream()(cast.typeName))
    except (pglast.parser.ParseError, ValueError, AttributeError, IndexError):
        raise InputError(f"the saved plan holds a type that is not a type name: {comment_safe(text)}") from None


def _count(conn: psycopg.Connection, target: _Target, lock: bool = False) -> Destroyed | None:
    """How many rows hold data the reverse destroys; None when the table does not exist (yet) or
    the values cannot be cast back (the rollback would then fail, not destroy)."""
    relation = sql.Identifier(target.schema, target.table)
    if conn.execute("SELECT to_regclass(%s)", (relation.as_string(conn),)).fetchone()[0] is None:
        return None
    if lock:
        conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(relation))
    if target.column is None:
        query = sql.SQL("SELECT count(*) FROM {}").format(relation)
    elif target.old_type is None:
        query = sql.SQL("SELECT count({}) FROM {}").format(sql.Identifier(target.column), relation)
    else:  # values that change on the way back (a truncated varchar, a rounded numeric)
        via = sql.SQL("::text") if "." in target.old_type + target.new_type else sql.SQL("")
        query = sql.SQL("SELECT count(*) FROM {t} WHERE ({c}{via}::{old})::{new} IS DISTINCT FROM {c}").format(
            t=relation, c=sql.Identifier(target.column), via=via, old=_type_name(target.old_type),
            new=_type_name(target.new_type))
    previous = conn.execute("SHOW row_security").fetchone()[0]
    try:
        with conn.transaction():  # a savepoint inside the rollback's transaction
            # every row, or PostgreSQL's refusal: never a count filtered by a tenant policy
            conn.execute("SET LOCAL row_security = off")
            rows = conn.execute(query).fetchone()[0]
            conn.execute(sql.SQL("SET LOCAL row_security = {}").format(sql.Literal(previous)))
    except psycopg.errors.DataException:
        return None
    except psycopg.errors.InsufficientPrivilege as error:
        role = conn.execute("SELECT current_user").fetchone()[0]
        raise preflight.PreflightRefused("what rollback needs", role, [comment_safe(
            f"BYPASSRLS (or SELECT on every row): counting the rows the rollback destroys in {target.object} "
            f"reads every row, and production refuses: {error.diag.message_primary or error}")]) from None
    return Destroyed(target.object, int(rows))


def _restore_jobs(step: Step, binaries: Binaries) -> tuple[list[RestoreJob], list[str]]:
    """What this migration's lossy changes need back from the backup, checked against the backup
    itself; and what cannot come back (named)."""
    before = step.plan.before
    jobs: list[RestoreJob] = []
    lost: list[str] = []
    for change in step.changes:
        if change["kind"] == "drop sequence":
            schema, name = _path(change, 2, step.plan)
            jobs.append(RestoreJob("sequence", schema, name))
            continue
        if not change["lossy"]:
            continue
        if change["kind"] not in RESTORED_KINDS:
            lost.append(comment_safe(f"{change['kind']} {change['object']}"))
            continue
        if change["kind"] == "drop table":
            schema, name = _path(change, 2, step.plan)
            table = before.tables.get(object_key(schema, name))
            if table is None:
                lost.append(comment_safe(f"{change['object']} (not in the plan's schema-before)"))
            elif table.kind != "partitioned table":  # the partitions hold its rows
                jobs.append(RestoreJob("table", schema, name, table=table))
                jobs += [RestoreJob("identity", schema, name, column=c.name, table=table)
                         for c in table.ordered_columns() if c.identity]
            continue
        schema, name, column = _path(change, 3, step.plan)
        table = before.tables.get(object_key(schema, name))
        model = table.columns.get(column) if table else None
        if model is None:
            lost.append(comment_safe(f"{change['object']} (not in the plan's schema-before)"))
        elif model.generated:
            continue  # a generated column computes its values again
        elif not row_key(table):
            lost.append(comment_safe(f"{change['object']} ({schema}.{name} has no primary key to match rows by)"))
        else:
            jobs.append(RestoreJob("column", schema, name, column=column, table=table))
            if model.identity:
                jobs.append(RestoreJob("identity", schema, name, column=column, table=table))
    if not jobs:
        return jobs, lost
    if step.dump is None:
        return [], lost + [comment_safe(f"{j.object} (applied with --no-backup)") for j in jobs]
    checked = []
    for job in jobs:
        if job.kind in ("sequence", "identity"):
            name = job.name if job.kind == "sequence" else _identity_sequence(before, job)
            value = read_sequence(binaries, step.dump, job.schema, name) if name else None
            if value is None:
                lost.append(comment_safe(f"the value of sequence {job.schema}.{name or job.object} (not in {step.dump.name})"))
            else:
                checked.append(RestoreJob(job.kind, job.schema, job.name, job.column, job.table, value))
            continue
        columns = table_columns(binaries, step.dump, job.schema, job.name)
        needed = (*row_key(job.table), job.column) if job.kind == "column" else ()
        if columns is None or any(c not in columns for c in needed):
            lost.append(comment_safe(f"{job.object} (not in {step.dump.name})"))
        else:
            checked.append(job)
    return _in_fk_order(checked, before), lost


def _identity_sequence(before: SchemaModel, job: RestoreJob) -> str | None:
    """The name of the sequence behind an identity column in the before-schema."""
    for sequence in before.sequences.values():
        if sequence.owned_by and qualified_parts(sequence.owned_by) == [job.schema, job.name, job.column]:
            return sequence.name
    return None


def _in_fk_order(jobs: list[RestoreJob], before: SchemaModel) -> list[RestoreJob]:
    """Tables parents first (foreign keys of the before-schema), then columns, then sequences."""
    tables = {(j.schema, j.name): j for j in jobs if j.kind == "table"}

    def parents(job: RestoreJob) -> list[tuple[str, str]]:
        found = []
        for constraint in job.table.constraints.values():
            if constraint.kind == "foreign" and constraint.references:
                parts = qualified_parts(constraint.references)
                key = tuple(parts) if len(parts) == 2 else next((k for k in tables if k[1] == parts[-1]), ())
                if key in tables and key != (job.schema, job.name):
                    found.append(key)
        return found

    ordered: list[tuple[str, str]] = []
    visiting: set[tuple[str, str]] = set()

    def visit(key: tuple[str, str]) -> None:
        if key in visiting:
            return  # done, or a cycle: its foreign keys come back after the data, so any order works
        visiting.add(key)
        for parent in parents(tables[key]):
            visit(parent)
        ordered.append(key)

    for key in sorted(tables):
        visit(key)
    rank = {"column": 1, "identity": 2, "sequence": 2}
    return [tables[key] for key in ordered] + sorted((j for j in jobs if j.kind != "table"), key=lambda j: rank[j.kind])


# --- the live run: one transaction ------------------------------------------------------------------


def _execute(prod_url: str, config: Config, steps: list[Step], options: RollbackOptions,
             progress: Progress) -> list[Restored]:
    """All steps in one transaction, retried from the start with backoff when the lock timeout fires."""
    binaries = client_for(server_major(prod_url))
    for attempt in range(config.lock_retries + 1):
        try:
            return _transaction(prod_url, config, steps, options, binaries, progress)
        except psycopg.errors.LockNotAvailable as error:
            if attempt == config.lock_retries:
                raise DatabaseError(f"rollback gave up: lock_timeout {config.lock_timeout} fired "
                                    f"{config.lock_retries + 1} times ({describe(error)}); nothing was changed") from None
            delay = 0.5 * (2 ** attempt) * (0.5 + random.random())  # exponential, with jitter
            progress(f"  lock not available ({config.lock_timeout}); retry {attempt + 1}/{config.lock_retries} "
                     f"in {delay:.1f}s")
            time.sleep(delay)
        except psycopg.Error as error:
            raise DatabaseError(f"rollback failed and was undone, production is as before it: {describe(error)}") from None
        except DatabaseError as error:  # pg_restore while reading the backup
            raise DatabaseError(f"rollback failed and was undone, production is as before it: {error.message}") from None
    raise AssertionError("unreachable")


def _transaction(prod_url: str, config: Config, steps: list[Step], options: RollbackOptions, binaries: Binaries,
                 progress: Progress) -> list[Restored]:
    restored: list[Restored] = []
    with connect(prod_url, autocommit=True) as conn:
        if conn.info.server_version >= 140000:
            conn.execute("SET client_connection_check_interval = '1s'")
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(config.lock_timeout)))
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(config.statement_timeout)))
            # A row level security policy that would hide rows from the restore is an error, never a silent filter.
            conn.execute("SET LOCAL row_security = off")
            for step in steps:
                progress(f"rolling back {step.row.version} ({comment_safe(step.row.name)})")
                _check_destroying(conn, step, options)
                reverses = step.reverses
                lossy = [i for i, c in enumerate(reverses) if c["lossy"] or c["kind"] == "drop sequence"]
                restore_after = lossy[-1] if lossy else -1
                for index, change in enumerate(reverses):
                    conn.execute(change["reverse"])
                    if index == restore_after:
                        restored += _restore(conn, binaries, step, progress)
                for change in step.left_in_place:
                    progress(f"  left in place (harmless): {comment_safe(change['kind'] + ' ' + change['object'])}")
                remove_history(conn, config.history_table, step.row.version)
    return restored


def _check_destroying(conn: psycopg.Connection, step: Step, options: RollbackOptions) -> None:
    """Counted again under lock: data written since the dry run also needs --allow-destructive."""
    if options.allow_destructive:
        return
    destroyed = [d for d in (_count(conn, target, lock=True) for target in _destroying(step)) if d and d.rows]
    if destroyed:
        raise GateRefused("rollback refused: it destroys data: "
                          + "; ".join(f"{comment_safe(d.object)} ({d.rows} row(s))" for d in destroyed)
                          + " (--allow-destructive to roll back anyway); nothing was changed")


def _restore(conn: psycopg.Connection, binaries: Binaries, step: Step, progress: Progress) -> list[Restored]:
    restored = []
    for job in step.jobs:
        if job.kind in ("sequence", "identity"):
            restore_sequence(conn, job.schema, job.name, job.column, job.value)
            progress(f"  restored sequence value {job.value[0]} of {comment_safe(job.object)}")
            continue
        if job.kind == "table":
            done = restore_table(conn, binaries, step.dump, job.schema, job.name)
        else:
            done = restore_column(conn, binaries, step.dump, job.table, job.column)
        progress(f"  restored {comment_safe(done.object)} from {step.dump.name}: {done.rows} row(s)")
        restored.append(done)
    return restored


# --- the dry run ---------------------------------------------------------------------------------


def _dry_run_text(steps: list[Step], destroyed: list[Destroyed], options: RollbackOptions, refusal: str | None) -> str:
    lines = [f"-- DRY RUN: nothing is rolled back. {len(steps)} migration(s), newest first, in ONE transaction "
             f"(all or nothing): {', '.join(s.row.version for s in steps)}"]
    for step in steps:
        lines.append(f"-- rollback of {step.row.version} ({comment_safe(step.row.name)})")
        for change in step.irreversible:
            lines.append(f"-- CANNOT UNDO: {comment_safe(change['kind'] + ' ' + change['object'])}")
        for change in step.left_in_place:
            lines.append(f"-- left in place (harmless): {comment_safe(change['kind'] + ' ' + change['object'])}")
        lines += [change["reverse"] for change in step.reverses]
        for job in step.jobs:
            lines.append(f"-- then, in the same transaction: restore {job.kind} {comment_safe(job.object)} "
                         f"from {step.dump.name if step.dump else 'the backup'}")
        if not options.restore_data:
            lines.append("-- --no-restore-data: dropped data is NOT restored")
        lines.append(f"-- and delete {step.row.version} from the history")
    for item in destroyed:
        lines.append(f"-- DESTROYS {comment_safe(item.object)}: {item.rows} row(s) lose data written since the apply")
    if refusal:
        lines.append(f"-- {comment_safe(refusal)}")
    else:
        lines.append("-- run again with --confirm-live to roll back")
    return "\n".join(lines) + "\n"
