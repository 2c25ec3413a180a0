"""`migguard plan`: prove the pending migrations on a shadow before production sees them.

Steps (SPEC section 5), each a function over the shared `PlanState`, run by `run_steps`, which
prints its progress line and records when it started (`Plan.timings`):
lint → replay → clone → drift → apply pending on the clone (lock and rewrite trace) → diff →
data pre-checks → rls → rollback (generated and verified) → write the plan directory.
Production is only read. Without a production URL, `--base REF` takes the migrations as of a
git ref as the applied history, so CI can gate a pull request with no production access.

A pending migration that ran part way in production (statement by statement, recorded in the
progress table: `migguard.pg.partway`) is planned as the resumed apply will run it:
- replay: its recorded statements run after the applied history, so drift compares production
  with the history plus what really ran of it;
- clone: production's schema already holds them, so only the statements the resume will run are
  applied and traced; the plan's change set, rollback.sql and their verification cover only
  those, i.e. "production as it is now" comes back;
- the migration's own change list (plan.json `migrations`, `rollback/<version>.sql`, what
  `migguard rollback` undoes once the history lists it) is complete: the changes of its recorded
  statements, diffed on the replay (history → history + recorded), then those of the rest,
  diffed on the clone. That rollback is verified on the replay: the rest runs there too, the
  migration's rollback runs, and the schema must equal the applied history's again;
- a recorded statement whose hash differs from the file's statement at that number is the error
  finding `partial-migration-edited`, and that migration is planned whole (the runner refuses it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import psycopg

from migguard.core.config import Config, secret
from migguard.core.errors import GateRefused, InputError
from migguard.core.findings import Finding, Report, Severity
from migguard.core.identifiers import comment_safe, object_key
from migguard.core.redact import redact_text
from migguard.core.sources import Migration, checksum, discover
from migguard.drift.replay import ShadowRefused, check_extensions, extension_finding, replay_history
from migguard.lint.context import LintSettings
from migguard.lint.engine import ConfiguredFindings, LintCache, LintTarget, RulePolicy, build_report, gate_passes, lint_targets
from migguard.lint.generated import generated_sql_findings
from migguard.pg import preflight
from migguard.pg.connect import connect, describe
from migguard.pg.history import read_applied
from migguard.pg.incremental import IncrementalReader, needs_full_read
from migguard.pg.introspect import introspect
from migguard.pg.shadow import MigrationFailed, ShadowServer, apply_migration, missing_object
from migguard.pg.partway import Mismatch, PartWay, read_part_way, run_recorded, without_leftovers
from migguard.plan.prechecks import PrecheckResult, run_prechecks
from migguard.plan.query_plans import PlanChange, load_queries, snapshot
from migguard.plan.query_plans import compare as compare_plans
from migguard.plan.trace import StatementTrace, TableSize, Tracer, grade, table_sizes
from migguard.rls.command import audit_and_probe
from migguard.schema.diff import Change, diff, reverse_script
from migguard.schema.model import SchemaModel, not_restorable_columns
from migguard.sql.parse import parse_file
from migguard.sql.transactions import transaction_text

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanOptions:
    base: str | None = None  # git ref whose migrations count as applied (no production access)
    continue_on_error: bool = False
    accept_drift: bool = False
    allow_destructive: bool = False
    strict: bool = False
    select: tuple[str, ...] = ()  # rule ids or families for the lint step, as `lint --select`
    ignore: tuple[str, ...] = ()
    write: bool = True  # write the plan directory
    prod_url: str | None = None  # overrides PG_PROD_URL (tests)
    shadow_url: str | None = None  # overrides PG_SHADOW_URL (tests)


@dataclass
class MigrationStep:
    """One pending migration and the changes it alone makes: its rollback is `rollback/<version>.sql`."""

    version: str
    name: str
    checksum: str
    path: str
    changes: list[Change]
    down_checksum: str | None = None  # the hand-written down script the plan checked, if any

    @property
    def rollback_sql(self) -> str:
        return reverse_script(self.changes)[0]


@dataclass
class Plan:
    """Everything the plan found; `to_json()` is the machine contract of plan.json."""

    fingerprint: str
    applied: list[str]
    pending: list[str]
    changes: list[Change]
    drift: list[Change]
    prechecks: list[PrecheckResult]
    traces: list[StatementTrace]
    rollback_sql: str
    forward_sql: str
    rollback_verified: bool
    irreversible: list[Change]
    before: SchemaModel
    after: SchemaModel
    target: str  # redacted production URL, or "git:<ref>", or "empty database"
    findings: list[Finding] = field(default_factory=list)
    # the findings of the database steps (not lint): apply judges these from the plan
    database_findings: list[Finding] = field(default_factory=list)
    query_plans: list[PlanChange] = field(default_factory=list)
    steps: list[MigrationStep] = field(default_factory=list)  # each pending migration's own changes
    # version -> 1-based numbers of the statements production already ran (the resume skips them)
    part_way: dict[str, list[int]] = field(default_factory=dict)
    directory: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "target": self.target,
            "applied": len(self.applied),
            "pending": self.pending,
            "changes": [c.describe() for c in self.changes],
            "destructive": [c.describe() for c in self.changes if c.destructive],
            "lossy": [c.object for c in self.changes if c.lossy],
            "drift": [c.describe() for c in self.drift],
            "rollback_verified": self.rollback_verified,
            "irreversible": [c.describe() for c in self.irreversible],
            "part_way": self.part_way,
            "directory": str(self.directory) if self.directory else None,
        }

    def to_json(self) -> dict:
        return {
            "version": 1,
            "fingerprint": self.fingerprint,
            "target": self.target,
            "applied": self.applied,
            "pending": self.pending,
            "part_way": self.part_way,
            "changes": [_change_json(c) for c in self.changes],
            "drift": [_change_json(c) for c in self.drift],
            "prechecks": [asdict(p) for p in self.prechecks],
            "trace": [asdict(t) for t in self.traces],
            "migrations": [{"version": m.version, "name": m.name, "checksum": m.checksum, "path": m.path,
                            "down_checksum": m.down_checksum, "changes": [_change_json(c) for c in m.changes],
                            "rollback_file": f"rollback/{m.version}.sql"} for m in self.steps],
            "rollback": {"verified": self.rollback_verified,
                         "irreversible": [_change_json(c) for c in self.irreversible]},
            "schema_before_hash": self.before.fingerprint(),
            "schema_after_hash": self.after.fingerprint(),
            "findings": [f.model_dump(mode="json") for f in self.findings],
            "database_findings": [f.model_dump(mode="json") for f in self.database_findings],
            "query_plans": [{"line": c.line, "query": c.query, "before": list(c.before.nodes), "after": list(c.after.nodes),
                             "lost_indexes": c.lost_indexes, "error": c.after.error} for c in self.query_plans],
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _change_json(change: Change) -> dict:
    """One change in plan.json; `path` is [schema, name] or [schema, table, member]: read names from
    it, never by splitting `object` on dots (names may hold dots)."""
    return {"kind": change.kind, "object": change.object, "path": list(change.path), "forward": change.forward,
            "reverse": change.reverse, "destructive": change.destructive, "lossy": change.lossy, "lock": change.lock,
            "notes": list(change.notes)}


# --- which migrations are applied -----------------------------------------------------------


def split_history(migrations: list[Migration], applied_versions: list[str]) -> tuple[list[Migration], list[Migration]]:
    applied = set(applied_versions)
    return [m for m in migrations if m.version in applied], [m for m in migrations if m.version not in applied]


def migrations_at_ref(ref: str, directory: Path, layout: str) -> list[Migration]:
    """The migrations directory as it was at git `ref`, checked out into a temporary directory."""
    def git(*args: str, cwd: Path) -> str:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise InputError(f"git {args[0]} failed for --base {ref}: {result.stderr.strip().splitlines()[-1:] or ''}")
        return result.stdout

    top = Path(git("rev-parse", "--show-toplevel", cwd=directory).strip())
    relative = directory.resolve().relative_to(top)
    target = Path(tempfile.mkdtemp(prefix="migguard-base-"))
    names = [n for n in git("ls-tree", "-r", "--name-only", ref, "--", str(relative), cwd=top).splitlines() if n]
    for name in names:
        blob = subprocess.run(["git", "show", f"{ref}:{name}"], cwd=top, capture_output=True, check=True).stdout
        path = target / Path(name).relative_to(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return discover(target, layout) if names else []


# --- the plan ----------------------------------------------------------------------------------


def fingerprint(pending: list[Migration], production_hash: str) -> str:
    """SHA-256 over the pending migrations' checksums and production's schema hash (SPEC 5.11)."""
    material = "\n".join([f"{m.version}:{m.checksum()}" for m in pending] + [production_hash])
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass
class PlanState:
    """What the plan's steps share: each step reads what earlier steps left here and adds its own.

    Set before the steps run: the migrations, production's history (`applied`, `pending`,
    part-way migrations) and where the plan runs (`prod_url`, `shadow_url`, `target`)."""

    options: PlanOptions
    config: Config
    progress: Progress
    started: float
    migrations: list[Migration]
    prod_url: str | None
    shadow_url: str | None
    target: str
    applied: list[Migration]
    pending: list[Migration]
    history: list[Migration]  # what the replay runs: the applied migrations, or those at --base
    part_way: list[PartWay]
    mismatches: list[Mismatch]
    checksum_mismatch: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    # lint
    targets: list[LintTarget] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    db_findings: list[Finding] = field(default_factory=list)  # ConfiguredFindings: [tool.migguard.rules] applies
    # the shadow and the scratch databases made on it (dropped when the steps end)
    shadow: ShadowServer | None = None
    created: list[str] = field(default_factory=list)
    # replay
    own: str = ""  # migguard's history schema is not the app's
    replay_url: str = ""
    replay_db: str = ""
    history_model: SchemaModel | None = None  # the applied history
    replayed: SchemaModel | None = None  # the applied history plus what production ran of part-way migrations
    partial_changes: dict[str, list[Change]] = field(default_factory=dict)
    # clone
    clone_db: str = ""
    clone_url: str = ""
    production: SchemaModel | None = None  # read on production itself: the fingerprint hashes it (apply re-reads it)
    sizes: dict[str, TableSize] = field(default_factory=dict)
    before: SchemaModel | None = None
    # drift
    drift: list[Change] = field(default_factory=list)
    # apply
    traces: list[StatementTrace] = field(default_factory=list)
    steps: list[MigrationStep] = field(default_factory=list)
    models: list[SchemaModel] = field(default_factory=list)  # the clone's schema before each migration, and after all
    plan_changes: list[PlanChange] = field(default_factory=list)
    after: SchemaModel | None = None
    # diff, prechecks, rollback
    changes: list[Change] = field(default_factory=list)
    prechecks: list[PrecheckResult] = field(default_factory=list)
    rollback_sql: str = ""
    irreversible: list[Change] = field(default_factory=list)
    verified: bool = False

    def report(self) -> Report:
        return build_report(self.findings + self.db_findings, self.targets, self.options.strict)

    def database_url(self, database: str) -> str:
        """URL of a scratch database on the shadow."""
        assert self.shadow is not None
        return self.shadow.database_url(database)


@dataclass(frozen=True)
class Step:
    """One named step: `message` is its progress line, or None when it does not apply to this plan."""

    name: str
    message: Callable[[PlanState], str | None]
    run: Callable[[PlanState], None]


def run_plan(options: PlanOptions, config: Config, progress: Progress = lambda _: None) -> tuple[Report, Plan]:
    """The plan command as a plain function: lint, then the shadow steps, then the plan directory."""
    state = load_state(options, config, progress)
    run_steps(state, (LINT,))
    with ShadowServer(state.shadow_url, Path(config.root) / ".migguard", production=state.prod_url) as shadow:
        state.shadow = shadow
        if shadow.mismatch:
            state.db_findings.append(_db_finding("shadow-major-mismatch", Severity.INFO, "db:shadow",
                                                 shadow.mismatch.message + ".", shadow.mismatch.hint))
        try:
            run_steps(state, SHADOW_STEPS)
        finally:
            for name in state.created:
                shadow.drop_database(name)
    return finish(state)


def run_steps(state: PlanState, steps: tuple[Step, ...]) -> None:
    """Run `steps` in order; each one's start (seconds since the plan began) goes in `state.timings`."""
    for step in steps:
        message = step.message(state)
        if message is None:
            continue
        state.timings[step.name] = time.monotonic() - state.started
        state.progress(message)
        step.run(state)


def load_state(options: PlanOptions, config: Config, progress: Progress) -> PlanState:
    """Read which migrations are applied: from production (read only), from git at --base, or none."""
    started = time.monotonic()
    directory = Path(config.root) / config.migrations
    migrations = discover(directory, config.layout)
    prod_url = options.prod_url or secret("PG_PROD_URL", config)
    shadow_url = options.shadow_url or secret("PG_SHADOW_URL", config)

    part_way: list[PartWay] = []
    mismatches: list[Mismatch] = []
    checksum_mismatch: list[str] = []
    base_migrations = None
    if prod_url:
        # before anything is read: the privileges plan's reads need (exit 3 naming each one missing)
        preflight.require(prod_url, preflight.Needs(history=preflight.own_tables(config.history_table)),
                          "what plan needs")
        with connect(prod_url, connect_timeout=10) as prod:
            applied_rows = read_applied(prod, config.history_table)
            applied_now = {row.version for row in applied_rows}
            part_way, mismatches = read_part_way(prod, config.history_table,
                                                 [m for m in migrations if m.version not in applied_now])
            prod.rollback()
        applied_versions = [row.version for row in applied_rows]
        target = redact_text(prod_url)
        by_version = {m.version: m for m in migrations}
        checksum_mismatch = [row.version for row in applied_rows
                             if row.version in by_version and by_version[row.version].checksum() != row.checksum]
    elif options.base:
        base_migrations = migrations_at_ref(options.base, directory, config.layout)
        applied_versions = [m.version for m in base_migrations]
        target = f"git:{options.base}"
        progress(f"no PG_PROD_URL: planned against {target} (the migrations at {options.base} stand for production's "
                 "history); set PG_PROD_URL to plan against production")
    else:
        applied_versions, target = [], "empty database"
        progress("no PG_PROD_URL: planned against an empty database (every migration is pending); set PG_PROD_URL "
                 "to plan against production, or pass --base REF to plan against a git ref")
    applied, pending = split_history(migrations, applied_versions)
    return PlanState(options=options, config=config, progress=progress, started=started, migrations=migrations,
                     prod_url=prod_url, shadow_url=shadow_url, target=target, applied=applied, pending=pending,
                     history=base_migrations if base_migrations is not None else applied, part_way=part_way,
                     mismatches=mismatches, checksum_mismatch=checksum_mismatch)


def lint_step(state: PlanState) -> None:
    """1. Lint the pending migrations; record the history's own findings (edited, part-way edited)."""
    options, config = state.options, state.config
    policy = RulePolicy.build(config.rules, options.select, options.ignore, options.allow_destructive)
    settings = LintSettings.from_config(config)
    state.targets = [LintTarget(_display(m.up), m.up_sql()) for m in state.pending]
    lint_findings = lint_targets(state.targets, settings, policy, LintCache(Path(config.root) / ".migguard" / "cache"))
    state.findings = list(lint_findings)
    # Findings of the database steps: [tool.migguard.rules] applies to them as to the static rules.
    state.db_findings = ConfiguredFindings(config.rules)
    for version in state.checksum_mismatch:
        state.db_findings.append(_db_finding("checksum-mismatch", Severity.ERROR, f"migration {version}",
                                             f"Applied migration {version} was edited after it ran in production.",
                                             "Restore the file as it was applied; put the change in a new migration."))
    for mismatch in state.mismatches:
        state.db_findings.append(_db_finding("partial-migration-edited", Severity.ERROR, f"migration {mismatch.version}",
                                             mismatch.message,
                                             "Restore the file as it ran, or undo the statements that ran and delete "
                                             "their progress rows; then plan again."))
    if not gate_passes(lint_findings, options.strict) and not options.continue_on_error:
        raise _LintRefused(state.report())


def replay_step(state: PlanState) -> None:
    """2. Replay the applied history from zero, then what production ran of part-way migrations
    (each one's changes diffed on the replay)."""
    assert state.shadow is not None
    try:
        state.replay_db = replay_history(state.shadow, state.history, state.prod_url)
    except ShadowRefused as failure:
        state.db_findings.append(failure.finding)
        raise _PlanRefused(state.report(), "an applied migration fails when the history is replayed on the "
                                           "shadow") from None
    state.created.append(state.replay_db)
    state.own = state.config.history_path[0]
    state.replay_url = state.database_url(state.replay_db)
    state.replayed = state.history_model = introspect(state.replay_url).without_schemas(state.own)
    for part in state.part_way:
        state.progress(f"  {part.version} ran part way in production: statement(s) "
                       f"{', '.join(map(str, sorted(part.done)))} replayed, the rest is planned")
        with connect(state.replay_url, autocommit=True) as conn:
            try:
                run_recorded(conn, part)
            except MigrationFailed as failure:
                state.db_findings.append(_db_finding(
                    "migration-fails", Severity.ERROR, _display(part.migration.up),
                    f"The statements of this part-way migration that ran in production fail on the replayed "
                    f"history: {failure.message}", "Bring production back in line with the migrations."))
                raise _PlanRefused(state.report()) from None
        current = introspect(state.replay_url).without_schemas(state.own)
        state.partial_changes[part.version] = diff(state.replayed, current)
        state.replayed = current


def clone_step(state: PlanState) -> None:
    """3. Clone production's schema into a second shadow database (or, without production, the replay)."""
    assert state.shadow is not None
    if state.prod_url:
        try:
            check_extensions(state.shadow, state.prod_url)
        except ShadowRefused as refused:
            state.db_findings.append(refused.finding)
            raise _PlanRefused(state.report(), "production's schema cannot be restored on the shadow") from None
        state.clone_db = state.shadow.create_database()
        state.created.append(state.clone_db)
        state.shadow.clone_schema(state.prod_url, state.clone_db)
        with connect(state.prod_url) as prod:
            state.production = introspect(prod).without_schemas(state.own)
            state.sizes = table_sizes(prod)
    else:
        state.clone_db = state.shadow.create_database(template=state.replay_db)
        state.created.append(state.clone_db)
        state.production = state.replayed
    state.clone_url = state.database_url(state.clone_db)
    # the clone keeps production's owner names: production's connecting role stands for the clone's,
    # in drift and in the rollback's verification (a view it recreates on the clone is the shadow role's)
    state.before = introspect(state.clone_url).without_schemas(state.own).also_read_as(*state.production.connecting_roles)


def drift_step(state: PlanState) -> None:
    """4. Drift: production against the replayed history (with the part-way statements), both read on
    the shadow server: production is its clone (step 3), so deparsing that differs between majors (a
    view's definition) is not drift. The INVALID leftovers apply rebuilds are named; the clone has
    none (pg_dump skips invalid indexes)."""
    assert state.production is not None and state.replayed is not None and state.before is not None
    if state.prod_url:
        _compared, leftovers = without_leftovers(state.production, state.pending, state.part_way)
        for name in leftovers:
            state.progress(f"  INVALID index {comment_safe(name)}: left by a failed CREATE INDEX CONCURRENTLY that "
                           "apply runs again (it drops the leftover first): not drift")
        state.drift = diff(state.replayed, state.before)  # before: read as production's role too (clone_step)
    for change in state.drift:
        state.db_findings.append(_db_finding("schema-drift", Severity.WARNING if state.options.accept_drift else Severity.ERROR,
                                             f"db:{change.object}",
                                             f"Production differs from the migrations: {change.describe()}.",
                                             "Bring production back in line or write a migration that records the change; "
                                             "--accept-drift plans anyway."))


def apply_step(state: PlanState) -> None:
    """5. Apply the pending migrations to the clone, tracing locks and rewrites; each migration's own
    changes; the watched queries' plan shapes before and after."""
    assert state.before is not None
    config = state.config
    watched = load_queries(Path(config.root) / config.watch_queries) if config.watch_queries else []
    skips = {part.version: part.skip for part in state.part_way}
    # each migration's schema: the clone read whole once, then patched with what it changed, on a
    # connection of its own (psycopg forgets the statements it prepared on a connection after any
    # ALTER or DROP there: the reader's would be parsed and planned again after every migration)
    with connect(state.clone_url, autocommit=True) as conn, connect(state.clone_url, autocommit=True) as reading:
        plans_before = snapshot(conn, watched)
        previous = state.before
        state.models = [state.before]
        reader = IncrementalReader(reading)
        reader.read()
        for migration in state.pending:
            tracer = Tracer(_display(migration.up))
            conn.autocommit = True
            tracer.before(conn)
            try:
                apply_migration(conn, migration, on_statement=tracer.after_statement,
                                skip=skips.get(migration.version, frozenset()), observe_each=tracer.observes)
            except MigrationFailed as failure:
                missing = missing_object(failure)
                if missing is not None and missing.kind == "extension":
                    assert state.shadow is not None
                    state.db_findings.append(extension_finding(failure, missing.name, state.shadow, state.prod_url))
                else:
                    state.db_findings.append(_db_finding("migration-fails", Severity.ERROR, _display(migration.up),
                                                         f"The migration fails on a copy of production's schema: {failure.message}",
                                                         "Fix the migration; nothing was applied to production."))
                raise _PlanRefused(state.report()) from None
            state.traces += tracer.traces
            kinds = (statement.node_kind for statement in parse_file(migration.up_sql()).statements)
            current = reader.read(full=needs_full_read(kinds)).without_schemas(state.own)
            down = migration.down_sql()
            own_changes = state.partial_changes.get(migration.version, []) + diff(previous, current)
            state.steps.append(MigrationStep(migration.version, migration.name, migration.checksum(),
                                             _display(migration.up), own_changes,
                                             checksum(down) if down is not None else None))
            previous = current
            state.models.append(current)
        state.plan_changes = compare_plans(watched, plans_before, snapshot(conn, watched))
    state.db_findings += _trace_findings(state.traces, state.sizes)
    state.db_findings += [_query_plan_finding(config.watch_queries, change)
                          for change in state.plan_changes if change.regressed]
    state.after = introspect(state.clone_url).without_schemas(state.own)


def diff_step(state: PlanState) -> None:
    """6. The change set: the clone before and after."""
    assert state.before is not None and state.after is not None
    state.changes = diff(state.before, state.after)


def prechecks_step(state: PlanState) -> None:
    """7. Data pre-checks on production, read only (they need the change set)."""
    assert state.prod_url and state.before is not None and state.after is not None
    with connect(state.prod_url, autocommit=True) as prod:
        state.prechecks = run_prechecks(prod, state.changes, state.before, state.after)
    state.db_findings += [_precheck_finding(p) for p in state.prechecks]


def rls_step(state: PlanState) -> None:
    """8. RLS: catalog audit and the two-tenant isolation probe on the migrated clone."""
    state.db_findings += audit_and_probe(state.clone_url, state.config)


def rollback_step(state: PlanState) -> None:
    """9. Rollback: the hand-written down scripts are checked, never trusted (on a copy of the
    clone); the generated rollback is verified on the clone, and a part-way migration's on the replay."""
    assert state.shadow is not None and state.before is not None and state.history_model is not None
    if any(m.down_sql() for m in state.pending):
        state.db_findings += _check_down_scripts(state.shadow, state.clone_db, state.pending, state.models,
                                                 state.own, state.created)
    state.rollback_sql, state.irreversible = reverse_script(state.changes)
    # linted with migguard's own rules, as the one transaction `migguard rollback` runs it in
    options, config = state.options, state.config
    state.db_findings += generated_sql_findings(
        "rollback.sql", state.rollback_sql, replace(LintSettings.from_config(config), assume_in_transaction=True),
        RulePolicy.build(config.rules, options.select, options.ignore, options.allow_destructive),
        rule="generated-sql-unsafe")
    state.verified = _verify_rollback(state.clone_url, state.rollback_sql, state.before, state.irreversible, state.own)
    if not state.verified:
        state.db_findings.append(_db_finding("rollback-unverified", Severity.ERROR, "rollback.sql",
                                             "The generated rollback does not restore the schema from before the migration.",
                                             "Review rollback.sql by hand before applying."))
    if state.part_way:
        problem = _verify_part_way_rollback(state.replay_url, state.part_way, state.steps, state.history_model, state.own)
        if problem:
            state.verified = False
            state.db_findings.append(_db_finding("rollback-unverified", Severity.ERROR, problem[0], problem[1],
                                                 "Review the migration's rollback by hand before applying."))
    for obj, table, column in not_restorable_columns(state.changes, state.before):
        state.db_findings.append(_db_finding("rollback-not-restorable", Severity.WARNING, f"db:{comment_safe(obj)}",
                                             f"Dropping column {comment_safe(column)} of {comment_safe(table)} loses its values for "
                                             "good: the table has no primary key (nor a unique key over NOT NULL "
                                             "columns), so a rollback cannot match the backup's values back to rows.",
                                             "Add a primary key first, or copy the values to a keyed table before "
                                             "dropping the column."))


LINT = Step("lint", lambda s: f"[1/9] lint: {len(s.pending)} pending migration(s) of {len(s.migrations)}", lint_step)
SHADOW_STEPS = (
    Step("replay", lambda s: (f"[2/9] replay: {len(s.applied)} applied migration(s) on the shadow "
                              f"({'ephemeral cluster' if s.shadow is not None and s.shadow.ephemeral else 'shadow server'})"),
         replay_step),
    Step("clone", lambda s: ("[3/9] clone: production's schema into a second shadow database (pg_dump --schema-only)"
                             if s.prod_url else "[3/9] clone: no production URL; the replayed history stands for production"),
         clone_step),
    Step("drift", lambda s: "[4/9] drift: production against the replayed history", drift_step),
    Step("apply", lambda s: f"[5/9] apply: {len(s.pending)} pending migration(s) on the clone, tracing locks and rewrites",
         apply_step),
    Step("diff", lambda s: "[6/9] diff: the clone before and after", diff_step),
    Step("prechecks", lambda s: "[7/9] data pre-checks on production (read-only)" if s.prod_url and s.changes else None,
         prechecks_step),
    Step("rls", lambda s: "[8/9] rls: catalog audit and two-tenant isolation probe on the migrated clone", rls_step),
    Step("rollback", lambda s: "[9/9] rollback: generate and verify on the clone", rollback_step),
)


def finish(state: PlanState) -> tuple[Report, Plan]:
    """The plan from the steps' results; its directory written unless told not to; the gate's verdict."""
    assert state.production is not None and state.before is not None and state.after is not None
    plan = Plan(fingerprint=fingerprint(state.pending, state.production.fingerprint()),
                applied=[m.version for m in state.applied], pending=[m.version for m in state.pending],
                changes=state.changes, drift=state.drift, prechecks=state.prechecks, traces=state.traces,
                rollback_sql=state.rollback_sql, forward_sql=_forward_sql(state.pending, state.part_way),
                rollback_verified=state.verified, irreversible=state.irreversible, before=state.before,
                after=state.after, target=state.target, findings=state.findings + state.db_findings,
                database_findings=list(state.db_findings), query_plans=state.plan_changes, steps=state.steps,
                part_way={p.version: sorted(p.done) for p in state.part_way}, timings=state.timings)
    if state.options.write:
        plan.directory = write_plan(plan, Path(state.config.root) / state.config.plan_dir)
    state.timings["total"] = time.monotonic() - state.started
    report = state.report()
    ok = report.ok and (not state.drift or state.options.accept_drift)
    report = report.model_copy(update={"command": "plan", "ok": ok, "summary": report.summary | {"plan": plan.summary()}})
    return report, plan


class _LintRefused(GateRefused):
    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__("lint errors in the pending migrations (use --continue-on-error to plan anyway)")


class _PlanRefused(GateRefused):
    def __init__(self, report: Report, message: str = "a pending migration fails on the shadow") -> None:
        self.report = report
        super().__init__(message)


PlanRefused = (_LintRefused, _PlanRefused)


def _forward_sql(pending: list[Migration], part_way: list[PartWay]) -> str:
    """What apply will run: each pending file as it is, but of a part-way migration only the statements
    the resume runs (those that ran are named in a comment, never copied into it)."""
    parts = {p.version: p for p in part_way}
    out = []
    for migration in pending:
        part = parts.get(migration.version)
        if part is None:
            out.append(migration.up_sql().rstrip() + "\n")
            continue
        ran = ", ".join(f"{n} (line {part.done[n].line})" for n in sorted(part.done))
        out.append(f"-- migration {comment_safe(migration.version)} ran part way in production: statement(s) {ran} "
                   "ran before and do not run again\n"
                   + "".join(s.text.rstrip() + ";\n" for s in part.statements if s.index + 1 not in part.done))
    return "".join(out)


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:
        return path.as_posix()


def _db_finding(rule: str, severity: Severity, path: str, message: str, hint: str) -> Finding:
    return Finding(rule=rule, severity=severity, path=path, line=1, column=1, end_line=1, end_column=1,
                   message=message, hint=hint)


def _trace_findings(traces: list[StatementTrace], sizes: dict[str, TableSize]) -> list[Finding]:
    findings = []
    for trace in traces:
        for relation in trace.rewritten:
            size = sizes.get(relation)
            rows = f"{size.rows:,} rows" if size else "size unknown"
            findings.append(Finding(
                rule="observed-table-rewrite", severity=Severity(grade(size)), path=trace.migration, line=1, column=1,
                end_line=1, end_column=1, statement=trace.index,
                message=f"Statement {trace.index + 1} rewrote {relation} ({rows} in production) under an ACCESS EXCLUSIVE lock.",
                hint="Use a pattern that avoids the rewrite (see the lint hint for this statement), or run it in a maintenance window."))
        for relation, mode in trace.locks.items():
            if mode not in ("AccessExclusiveLock", "ExclusiveLock", "ShareRowExclusiveLock", "ShareLock"):
                continue
            if relation in trace.rewritten:
                continue
            size = sizes.get(relation)
            severity = grade(size)
            if severity == "info":
                continue
            findings.append(Finding(
                rule="observed-blocking-lock", severity=Severity(severity), path=trace.migration, line=1, column=1,
                end_line=1, end_column=1, statement=trace.index,
                message=f"Statement {trace.index + 1} took {mode} on {relation} ({size.rows:,} rows in production), "
                        "blocking traffic while it runs.",
                hint="Set a short lock_timeout and use the non-blocking variant (CONCURRENTLY, NOT VALID + VALIDATE)."))
    return findings


def _query_plan_finding(path: str, change: PlanChange) -> Finding:
    if change.lost_indexes:
        message = (f"After the migration this watched query no longer uses index {', '.join(change.lost_indexes)} "
                   f"(plan {' > '.join(change.before.nodes)} became {' > '.join(change.after.nodes)}).")
    else:
        message = f"After the migration this watched query fails to plan: {change.after.error}"
    return Finding(rule="query-plan-regression", severity=Severity.WARNING, path=path, line=change.line, column=1,
                   end_line=change.line, end_column=1, message=message,
                   hint="Keep or recreate the index the query needs, or rewrite the query in the same release.")


def _precheck_finding(result: PrecheckResult) -> Finding:
    if result.skipped:
        return _db_finding("precheck-skipped", Severity.WARNING, f"db:{result.object}",
                           f"The {result.check} pre-check of {result.object} did not run: production refused to let "
                           f"the connecting role read every row ({result.skipped}).",
                           "Connect as a role with BYPASSRLS and SELECT on the table (README: \"The roles "
                           "production needs\"), or check the data by hand before applying.")
    sampled = " (on a 1% sample: the full count timed out)" if result.sampled else ""
    keys = f"; first keys: {', '.join(result.sample_keys)}" if result.sample_keys else ""
    if result.fails_migration:
        message = f"{result.offending:,} row(s) in production violate the new {result.check} condition on {result.object}{sampled}{keys}: the migration will fail."
        hint = "Fix the data first (backfill or clean up), in a separate step."
        severity = Severity.ERROR
    else:
        message = f"This migration destroys {result.offending:,} row(s) of data in {result.object}{sampled}{keys}."
        hint = "Make sure the backup covers it; apply keeps one and names the restore command."
        severity = Severity.WARNING
    return _db_finding(f"precheck-{result.check}", severity, f"db:{result.object}", message, hint)


def _check_down_scripts(shadow: ShadowServer, clone_db: str, pending: list[Migration], models: list[SchemaModel],
                        own: str, created: list[str]) -> list[Finding]:
    """Run the hand-written down scripts newest first on a copy of the migrated clone; each must
    give back exactly the schema from before its migration (SPEC 1: checked, never trusted)."""
    copy = shadow.create_database(template=clone_db)
    created.append(copy)
    findings = []
    url = shadow.database_url(copy)
    for index in range(len(pending) - 1, -1, -1):
        migration = pending[index]
        down = migration.down_sql()
        if not down:
            break  # an older down script cannot run before this migration is undone
        where = _display(migration.down or migration.up)
        with connect(url, autocommit=True) as conn:
            try:
                with conn.transaction():
                    body = transaction_text(down)  # a down script wrapped whole in BEGIN … COMMIT: its body
                    if body:
                        conn.execute(body)
            except psycopg.Error as error:
                findings.append(_db_finding("down-script-fails", Severity.ERROR, where,
                                            f"The down script of {migration.version} fails after its migration: {describe(error)}",
                                            "Fix it, or delete it and rely on migguard's generated rollback."))
                break
        differences = diff(introspect(url).without_schemas(own), models[index])
        if differences:
            listed = "; ".join(c.describe() for c in differences[:4]) + (" …" if len(differences) > 4 else "")
            findings.append(_db_finding("down-script-mismatch", Severity.WARNING, where,
                                        f"The down script of {migration.version} does not restore the schema from "
                                        f"before it: {listed}.",
                                        "Compare it with rollback/" + migration.version + ".sql in the plan, "
                                        "which migguard verified."))
            break
    return findings


def _verify_part_way_rollback(url: str, part_way: list[PartWay], steps: list[MigrationStep], history: SchemaModel,
                              own: str) -> tuple[str, str] | None:
    """The complete rollback of each part-way migration, checked on the replay (history + recorded
    statements): run the statements the resume will run, then the migrations' own rollbacks newest
    first; the schema must equal the applied history's. (path, message) of the first problem."""
    scripts = {s.version: s.rollback_sql for s in steps}
    with connect(url, autocommit=True) as conn:
        for part in part_way:
            try:
                apply_migration(conn, part.migration, skip=part.skip)
            except MigrationFailed as failure:
                return (f"rollback/{part.version}.sql", (f"The rollback of part-way migration {part.version} cannot "
                        f"be verified: the rest of it fails on the replayed history: {failure.message}"))
        for part in reversed(part_way):
            try:
                with conn.transaction():
                    if scripts.get(part.version, "").strip():
                        conn.execute(scripts[part.version])
            except psycopg.Error as error:
                return (f"rollback/{part.version}.sql", (f"The rollback of part-way migration {part.version} fails "
                        f"on the replay: {describe(error)}"))
    leftovers = diff(introspect(url).without_schemas(own), history)
    if leftovers:
        listed = "; ".join(c.describe() for c in leftovers[:4]) + (" …" if len(leftovers) > 4 else "")
        return (f"rollback/{part_way[0].version}.sql", ("The rollback of the part-way migration(s) "
                f"{', '.join(p.version for p in part_way)} does not restore the applied history's schema: {listed}."))
    return None


def _verify_rollback(url: str, rollback_sql: str, before: SchemaModel, irreversible: list[Change], own: str) -> bool:
    """Run the rollback on the clone and compare with the before-schema (modulo what cannot be undone)."""
    with connect(url, autocommit=True) as conn:
        try:
            with conn.transaction():
                if rollback_sql.strip():
                    conn.execute(rollback_sql)
        except psycopg.Error:
            return False
    leftovers = {c.object for c in diff(introspect(url).without_schemas(own), before)}
    # an added enum value's path is (schema, type, value): what stays behind is the type
    allowed = {object_key(*c.path[:-1]) if c.kind == "add enum value" else c.object for c in irreversible}
    return leftovers <= allowed


def write_plan(plan: Plan, plan_dir: Path) -> Path:
    """plan_dir/<UTC timestamp>-<fingerprint12>/ with plan.json, plan.md, forward.sql, rollback.sql,
    schema-before.json and schema-after.json (written to a temporary name, then renamed).
    plan.json records the SHA-256 of every other file (`files`), so a plan edited after it was
    written is refused when read back."""
    from migguard.report import renderer

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    final = plan_dir / f"{stamp}-{plan.fingerprint[:12]}"
    report = Report(command="plan", ok=True, findings=tuple(plan.findings), summary={"plan": plan.summary()})
    header = f"-- rollback of plan {plan.fingerprint[:12]}: generated from the schema before the migration\n"
    files = {
        "plan.md": renderer("markdown")(report),
        "forward.sql": plan.forward_sql,
        "rollback.sql": header + plan.rollback_sql,
        **{f"rollback/{step.version}.sql": f"-- rollback of migration {comment_safe(f'{step.version} ({step.name})')}\n"
           + step.rollback_sql
           for step in plan.steps},
        "schema-before.json": plan.before.to_json(),
        "schema-after.json": plan.after.to_json(),
    }
    document = plan.to_json() | {"files": {name: checksum(text) for name, text in files.items()}}
    try:
        plan_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=plan_dir))
        (staging / "rollback").mkdir()
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8", newline="")
        (staging / "plan.json").write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except OSError as error:
        raise InputError(f"cannot write the plan into {plan_dir}: {error.strerror}") from None
    return final


@dataclass(frozen=True)
class SavedPlan:
    """A plan directory read back: what `apply --plan` executes and `rollback` undoes.

    Every file plan.json lists under `files` is read once, here, and must match its recorded
    SHA-256: a plan edited after it was written is refused (exit 1). Plans written before the
    record existed are read as they are.
    """

    directory: Path
    document: dict
    before: SchemaModel
    after: SchemaModel
    texts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path) -> SavedPlan:
        directory = path.parent if path.is_file() else path
        try:
            document = json.loads((directory / "plan.json").read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise ValueError("plan.json is not an object")
            texts = _verified_files(directory, document.get("files", {}))
            before = SchemaModel.from_json(texts.get("schema-before.json")
                                           or (directory / "schema-before.json").read_text(encoding="utf-8"))
            after = SchemaModel.from_json(texts.get("schema-after.json")
                                          or (directory / "schema-after.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: not a readable migguard plan ({error.__class__.__name__})") from None
        if document.get("version") != 1:
            raise InputError(f"{path}: plan format version {document.get('version')} is not supported")
        return cls(directory, document, before, after, texts)

    def _text(self, name: str) -> str:
        if name in self.texts:
            return self.texts[name]
        if "files" in self.document:
            raise InputError(f"{self.directory}: the plan has no {name}")
        return (self.directory / name).read_text(encoding="utf-8")

    @property
    def fingerprint(self) -> str:
        return self.document["fingerprint"]

    @property
    def pending(self) -> list[str]:
        return list(self.document["pending"])

    def checksums(self) -> dict[str, str]:
        return {m["version"]: m["checksum"] for m in self.document.get("migrations", [])}

    def destructive_changes(self) -> list[str]:
        return [f"{c['kind']} {c['object']}" for c in self.document["changes"] if c["destructive"]]

    def lossy_changes(self, version: str | None = None) -> list[dict]:
        changes = self.document["changes"] if version is None else next(
            (m["changes"] for m in self.document.get("migrations", []) if m["version"] == version), [])
        return [c for c in changes if c["lossy"]]

    def forward_sql(self) -> str:
        return self._text("forward.sql")

    def rollback_sql(self, version: str | None = None) -> str:
        return self._text("rollback.sql" if version is None else f"rollback/{version}.sql")

    def database_findings(self) -> list[dict]:
        """The findings of the plan's database steps (plan, RLS audit and probe), as plan.json has them."""
        if "database_findings" not in self.document:
            raise GateRefused(f"{self.directory}: the plan was written by an older migguard and does not say "
                              "which findings its database steps made; plan again")
        return list(self.document["database_findings"])


def _verified_files(directory: Path, recorded: object) -> dict[str, str]:
    """The text of each file plan.json records, refusing one whose SHA-256 differs (an edited plan)."""
    if not isinstance(recorded, dict):
        raise ValueError("plan.json: files is not an object")
    texts = {}
    for name, digest in recorded.items():
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"plan.json names a file outside the plan: {name!r}")
        data = (directory / relative).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise GateRefused(f"{directory}: {name} was changed after the plan was written (its SHA-256 "
                              "differs from the one plan.json records); plan again")
        texts[name] = data.decode("utf-8")
    return texts
