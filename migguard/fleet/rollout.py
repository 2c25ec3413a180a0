"""`migguard apply --fleet`: the single-target apply, target after target, canary first, then waves.

Each target runs `run_apply` itself (its gates, advisory lock, backup, history, verification and
audit), with its URL passed explicitly (never through os.environ, which threads share) and its
own backup and plan directories under the configured ones, so two targets with the same plan
fingerprint never write the same file. At most `parallel` targets run at a time (threads: the
work is the database's and pg_dump's, not Python's); a wave ends before the next starts.

The rollout stops starting targets at the first failed one (or after `max_failures`): the
targets running then finish, the rest stay untouched, and the outcome names all three kinds.
Nothing here remembers progress between runs except as a convenience (`state.py`): a target
whose history holds every migration is up to date and is skipped, so running the rollout again
continues where it stopped. A killed migguard leaves each target before or after each
migration, since the single-target runner applies and records each one in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from migguard.apply.command import ApplyOptions, run_apply
from migguard.core.config import Config, secret
from migguard.core.errors import GateRefused, InputError, LiveRefused, MigguardError
from migguard.core.exit_codes import ExitCode
from migguard.core.redact import redact_text
from migguard.core.sources import discover
from migguard.fleet.progress import RolloutProgress
from migguard.fleet.state import RolloutState
from migguard.fleet.targets import Target, target_config
from migguard.pg.connect import connect
from migguard.pg.history import read_applied
from migguard.pg.shadow import ShadowServer

# Most serious last: the fleet exits with the worst per-target outcome.
SEVERITY = (ExitCode.OK, ExitCode.USAGE, ExitCode.GATE_REFUSED, ExitCode.REFUSED_LIVE, ExitCode.DATABASE,
            ExitCode.INTERNAL)


@dataclass(frozen=True)
class TargetResult:
    """One target's outcome, as the report shows it: never its URL."""

    name: str
    group: str
    status: str  # applied | up-to-date | would-apply | refused | failed | unreachable | untouched | rolled-back
    versions: tuple[str, ...] = ()
    message: str = ""
    exit_code: ExitCode = ExitCode.OK
    before: str | None = None  # the target's last applied version before this run (for the state file)

    @property
    def failed(self) -> bool:
        return self.exit_code != ExitCode.OK


@dataclass
class RolloutOutcome:
    live: bool
    results: list[TargetResult] = field(default_factory=list)
    stopped: str | None = None  # why targets were left untouched

    @property
    def exit_code(self) -> ExitCode:
        return max((r.exit_code for r in self.results), key=SEVERITY.index, default=ExitCode.OK)

    def named(self, *statuses: str) -> list[str]:
        return [r.name for r in self.results if r.status in statuses]


class FleetFailed(MigguardError):
    """The rollout ended with at least one target not done; exits with the worst target's code."""

    def __init__(self, message: str, exit_code: ExitCode, table: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.table = table  # the per-target table, for stdout before the error line


@dataclass(frozen=True)
class RolloutOptions:
    confirm_live: bool = False
    parallel: int | None = None  # None: [tool.migguard.fleet] parallel
    max_failures: int = 1
    apply: ApplyOptions = ApplyOptions()  # the single-target flags every target shares
    fleet_plan: Path | None = None  # `plan --fleet`'s fleet-plan.json: each target applies its group's proof


@dataclass(frozen=True)
class PlannedTarget:
    """A target's line of the fleet plan: whether it may go, and the proof (plan directory) it applies."""

    status: str
    reason: str
    directory: Path | None


def load_fleet_plan(path: Path, root: Path) -> dict[str, PlannedTarget]:
    """Target name -> its line of `plan --fleet`'s fleet-plan.json (a directory holding it, or the file)."""
    import json

    file = path / "fleet-plan.json" if path.is_dir() else path
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
        directories = {p["id"]: p.get("directory") for p in document["proofs"]}
        return {t["name"]: PlannedTarget(t["status"], t.get("reason") or "",
                                         root / directories[t["proof"]] if directories.get(t.get("proof")) else None)
                for t in document["targets"]}
    except OSError as error:
        raise InputError(f"cannot read the fleet plan {file}: {error.strerror}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{file} is not a fleet plan written by `migguard plan --fleet` ({error})") from None


TargetRun = Callable[[Target], TargetResult]


def single_target_config(config: Config, target: Target) -> Config:
    """The config `run_apply` / `run_rollback` get for one target: its history table (tenants), and
    its own backup and plan directories, so parallel targets never share a file."""
    own = target_config(config, target)
    return own.model_copy(update={"backup_dir": str(Path(config.backup_dir) / target.name),
                                  "plan_dir": str(Path(config.plan_dir) / target.name)})


def applied_versions(target: Target, config: Config) -> list[str]:
    """The target's history, in apply order: the truth about what is applied there."""
    with connect(target.url) as conn:
        rows = read_applied(conn, config.history_table)
        conn.rollback()
    return [row.version for row in rows]


def run_rollout(targets: list[Target], options: RolloutOptions, config: Config,
                progress: RolloutProgress) -> RolloutOutcome:
    """Apply (or, without confirm_live, dry-run) the pending migrations on every target, in order."""
    live = options.confirm_live
    state = RolloutState.load(Path(config.root) / config.plan_dir) if live else None
    migrations = [m.version for m in discover(Path(config.root) / config.migrations, config.layout)]
    planned = load_fleet_plan(options.fleet_plan, Path(config.root)) if options.fleet_plan is not None else None
    tenants = tenants_by_database(targets)
    with _shadow(options.apply, config) as shadow_url:
        single = replace(options.apply, confirm_live=live, shadow_url=shadow_url)

        def one(target: Target) -> TargetResult:
            options = replace(single, sibling_schemas=tenants.get(target.url, ()))
            if planned is None:
                return _apply_target(target, options, config, migrations)
            line = planned.get(target.name)
            if line is None or line.status != "ok":
                why = f"{line.status} in the fleet plan: {line.reason}" if line else "not in the fleet plan"
                return TargetResult(target.name, target.group, "refused", message=f"{why} (run plan --fleet again)",
                                    exit_code=ExitCode.GATE_REFUSED)
            # A tenant's proof ran on a stand-in database: the tenant's own run plans it under its scope.
            proof = line.directory if target.schema is None else None
            return _apply_target(target, replace(options, plan_path=proof), config, migrations)

        def record(target: Target, result: TargetResult) -> None:
            if state is None:
                return
            applied = list(result.versions) if result.status == "applied" or result.failed else []
            state.record(target.name, target.group, result.status, result.before, applied, result.failed)
            state.save()

        return run_groups(targets, one, _parallel(options, config), options.max_failures, progress, live, record)


def tenants_by_database(targets: list[Target]) -> dict[str, tuple[str, ...]]:
    """Database URL -> the tenant schemas the fleet has in it: each tenant's run leaves the others
    out of its shadow clones (pg/scope.py)."""
    found: dict[str, list[str]] = {}
    for target in targets:
        if target.schema is not None:
            found.setdefault(target.url, []).append(target.schema)
    return {url: tuple(schemas) for url, schemas in found.items()}


def run_groups(targets: list[Target], run: TargetRun, parallel: int, max_failures: int,
               progress: RolloutProgress, live: bool,
               record: Callable[[Target, TargetResult], None] = lambda *_: None) -> RolloutOutcome:
    """Group after group, at most `parallel` targets at a time; stop starting targets once
    `max_failures` failed (the running ones finish; the rest are `untouched`)."""
    outcome = RolloutOutcome(live)
    by_name: dict[str, TargetResult] = {}
    failures = 0
    groups = list(dict.fromkeys(t.group for t in targets))
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="migguard-fleet") as pool:
        for group in groups:
            members = [t for t in targets if t.group == group]
            if outcome.stopped is not None:
                break
            progress.wave(group, len(members))
            queue: Iterator[Target] = iter(members)
            running: dict[Future[TargetResult], Target] = {}
            while True:
                while len(running) < parallel and outcome.stopped is None:
                    target = next(queue, None)
                    if target is None:
                        break
                    running[pool.submit(_guarded, run, target)] = target
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    target = running.pop(future)
                    result = future.result()
                    by_name[target.name] = result
                    record(target, result)
                    progress.result(target.name, result.status, result.failed, result.message)
                    if result.failed:
                        failures += 1
                        if failures >= max_failures and outcome.stopped is None:
                            outcome.stopped = (f"stopped after {failures} failed target(s) (max failures "
                                               f"{max_failures}), at {target.name} in {group}")
    for target in targets:
        outcome.results.append(by_name.get(target.name) or TargetResult(target.name, target.group, "untouched"))
    progress.finish()
    return outcome


def _guarded(run: TargetRun, target: Target) -> TargetResult:
    """A defect in one target's run is that target's failure (exit 5), not the end of the rollout's report."""
    try:
        return run(target)
    except Exception as error:  # noqa: BLE001 - reported per target, with its type, redacted
        return TargetResult(target.name, target.group, "failed",
                            message=redact_text(f"internal error ({type(error).__name__}): {error}"),
                            exit_code=ExitCode.INTERNAL)


def _apply_target(target: Target, options: ApplyOptions, config: Config, migrations: list[str]) -> TargetResult:
    if target.unreachable:
        return TargetResult(target.name, target.group, "unreachable", message=f"unreachable: {target.unreachable}",
                            exit_code=ExitCode.DATABASE)
    own = single_target_config(config, target)
    try:
        before = applied_versions(target, own)
    except MigguardError as error:
        return TargetResult(target.name, target.group, "unreachable", message=error.message,
                            exit_code=error.exit_code)
    if not [v for v in migrations if v not in before]:
        return TargetResult(target.name, target.group, "up-to-date", versions=tuple(before[-1:]))
    try:
        outcome = run_apply(replace(options, prod_url=target.url, schema=target.schema), own)
    except MigguardError as error:
        status = "refused" if isinstance(error, (GateRefused, LiveRefused)) else "failed"
        return TargetResult(target.name, target.group, status, _newly_applied(target, own, before), error.message,
                            error.exit_code, _last(before))
    if not outcome.live:
        if outcome.refusal is not None:
            return TargetResult(target.name, target.group, "refused", message=outcome.refusal.message,
                                exit_code=outcome.refusal.exit_code)
        return TargetResult(target.name, target.group, "would-apply", tuple(outcome.plan.pending))
    return TargetResult(target.name, target.group, "applied" if outcome.applied else "up-to-date",
                        tuple(outcome.applied), before=_last(before))


def _newly_applied(target: Target, config: Config, before: list[str]) -> tuple[str, ...]:
    """What the failed run still applied (migrations before the one that failed): read back from the history."""
    try:
        return tuple(v for v in applied_versions(target, config) if v not in before)
    except MigguardError:
        return ()


def _last(versions: list[str]) -> str | None:
    return versions[-1] if versions else None


def _parallel(options: RolloutOptions, config: Config) -> int:
    configured = config.fleet.parallel if config.fleet is not None else 4
    return max(1, options.parallel or configured)


@contextmanager
def _shadow(options: ApplyOptions, config: Config) -> Iterator[str]:
    """One shadow server for the whole rollout (PG_SHADOW_URL, or one ephemeral cluster started
    once), not one per target."""
    url = options.shadow_url or secret("PG_SHADOW_URL", config)
    if url:
        yield url
        return
    with ShadowServer(None, Path(config.root) / ".migguard") as shadow:
        assert shadow.url is not None
        yield shadow.url
