"""`migguard rollback --fleet`: the single-target rollback on the last wave's targets (from the
rollout state file) or on named ones (`--only`), dry run by default.

Each target runs `run_rollback` with its own config (history table, backup directory), so the
same gates, lock, backup and audit apply as to one production. A target the last wave applied
several migrations to is rolled back to the version it held before (`--to`), or migration by
migration when it held none. Targets are grouped and stopped exactly as the rollout is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from migguard.apply.rollback import RollbackOptions, run_rollback
from migguard.core.config import Config
from migguard.core.errors import GateRefused, InputError, LiveRefused, MigguardError
from migguard.core.exit_codes import ExitCode
from migguard.fleet.progress import RolloutProgress
from migguard.fleet.rollout import RolloutOutcome, TargetResult, run_groups, single_target_config, tenants_by_database
from migguard.fleet.state import RolloutState, TargetState
from migguard.fleet.targets import Target


@dataclass(frozen=True)
class FleetRollbackOptions:
    confirm_live: bool = False
    last_wave: bool = False
    parallel: int | None = None  # None: [tool.migguard.fleet] parallel
    max_failures: int = 1
    single: RollbackOptions = RollbackOptions()  # the flags every target shares (backup, restore, destructive)


def chosen_targets(targets: list[Target], options: FleetRollbackOptions, only: tuple[str, ...],
                   config: Config) -> list[Target]:
    """--only's targets, or the last wave's (exactly one of the two is required)."""
    if options.last_wave == bool(only):
        raise InputError("rollback --fleet takes --last-wave or --only NAME (one of the two)")
    if only:
        return targets
    last = RolloutState.load(Path(config.root) / config.plan_dir).last_wave()
    if last is None:
        raise InputError("rollback --fleet --last-wave: the rollout state records no wave that applied anything")
    group, names = last
    by_name = {t.name: t for t in targets}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise InputError(f"the last wave ({group}) names target(s) no longer in the fleet: {', '.join(missing)}")
    return [by_name[name] for name in names]


def run_fleet_rollback(targets: list[Target], options: FleetRollbackOptions, config: Config,
                       progress: RolloutProgress) -> RolloutOutcome:
    live = options.confirm_live
    state = RolloutState.load(Path(config.root) / config.plan_dir)

    tenants = tenants_by_database(targets)

    def one(target: Target) -> TargetResult:
        return _rollback_target(target, options, config, state.targets.get(target.name),
                                tenants.get(target.url, ()))

    def record(target: Target, result: TargetResult) -> None:
        if live and result.status == "rolled-back":
            state.rolled_back(target.name)
            state.save()

    parallel = options.parallel or (config.fleet.parallel if config.fleet is not None else 4)
    return run_groups(targets, one, parallel, options.max_failures, progress, live, record)


def _rollback_target(target: Target, options: FleetRollbackOptions, config: Config,
                     entry: TargetState | None, siblings: tuple[str, ...]) -> TargetResult:
    if target.unreachable:
        return TargetResult(target.name, target.group, "unreachable", message=f"unreachable: {target.unreachable}",
                            exit_code=ExitCode.DATABASE)
    own = single_target_config(config, target)
    base = RollbackOptions(confirm_live=options.confirm_live, backup=options.single.backup,
                           restore_data=options.single.restore_data,
                           allow_destructive=options.single.allow_destructive, prod_url=target.url,
                           schema=target.schema, sibling_schemas=siblings)
    # What the rollout applied here: back to the version before it, or one by one when there was none.
    if entry is not None and entry.applied and entry.before is not None:
        runs = [replace(base, to_version=entry.before)]
    else:
        count = len(entry.applied) if entry is not None and entry.applied and options.confirm_live else 1
        runs = [base] * count
    undone: list[str] = []
    try:
        for single in runs:
            outcome = run_rollback(single, own)
            if not outcome.live:
                if outcome.refusal:
                    return TargetResult(target.name, target.group, "refused", tuple(outcome.versions),
                                        outcome.refusal, ExitCode.GATE_REFUSED)
                return TargetResult(target.name, target.group, "would-roll-back", tuple(outcome.versions))
            undone += outcome.versions
    except MigguardError as error:
        status = "refused" if isinstance(error, (GateRefused, LiveRefused)) else "failed"
        return TargetResult(target.name, target.group, status, tuple(undone), error.message, error.exit_code)
    return TargetResult(target.name, target.group, "rolled-back", tuple(undone))
