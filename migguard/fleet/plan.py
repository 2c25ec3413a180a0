"""`migguard plan --fleet`: one fleet plan over every target, each distinct schema proved once.

1. survey: every target's history and schema fingerprint, `parallel` at a time (fleet/survey.py);
2. group: targets with the same schema fingerprint, applied history and pending migrations share
   one proof; a target that cannot be reached is named with its reason and left out;
3. prove: `run_plan` (lint, replay, clone, drift, apply on the clone, pre-checks, RLS, verified
   rollback) once per group, on the group's first target, all proofs on one shadow server: its
   plan directory is the proof the group's targets are applied with. Drift is the group's: drift
   compares production's schema with the replayed history, and a group's targets have the same
   schema and the same history. A tenant schema is proved on its stand-in (fleet/tenants.py);
4. data pre-checks on every other target of a group (its own rows), read only; on every tenant
   schema, the stand-in having no rows (the change set written back in the tenant's schema);
5. write `<plan_dir>/fleet-plan.json` and `fleet-plan.md` (written whole, then renamed).

A target's status is `ok`, `drifted`, `refused` (an error finding: lint, a pre-check, the proof),
`unproven` (no proof for it), `error` (its proof failed on the database) or `unreachable`.
The exit code is the worst of them (FLEET_EXIT).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from migguard.core.config import Config, secret
from migguard.core.errors import GateRefused, InputError, MigguardError
from migguard.core.exit_codes import ExitCode
from migguard.core.findings import Finding, Report, Severity
from migguard.core.sources import discover
from migguard.fleet.report import ResultRow, markdown_cell, render_markdown, render_table, summary_line
from migguard.fleet.survey import Survey, group_by_proof, survey_all, unreachable_reason
from migguard.fleet.targets import Target, load_targets, target_config
from migguard.fleet.tenants import in_tenant, tenant_stand_in
from migguard.pg.connect import connect
from migguard.pg.shadow import ShadowServer
from migguard.plan.command import Plan, PlanOptions, PlanRefused, _precheck_finding, run_plan
from migguard.plan.prechecks import run_prechecks

Progress = Callable[[str], None]

# A status's exit code (core/exit_codes.py); a fleet run exits with the largest among its targets.
FLEET_EXIT = {"ok": ExitCode.OK, "drifted": ExitCode.GATE_REFUSED, "refused": ExitCode.GATE_REFUSED,
              "unproven": ExitCode.GATE_REFUSED, "error": ExitCode.DATABASE, "unreachable": ExitCode.DATABASE}
PLAN_FILE = "fleet-plan.json"
REPORT_FILE = "fleet-plan.md"


@dataclass(frozen=True)
class FleetPlanOptions:
    only: tuple[str, ...] = ()
    parallel: int | None = None  # None: [tool.migguard.fleet] parallel
    accept_drift: bool = False
    continue_on_error: bool = False
    allow_destructive: bool = False
    strict: bool = False
    select: tuple[str, ...] = ()  # the lint step's rule ids or families, as `plan --select`
    ignore: tuple[str, ...] = ()
    shadow_url: str | None = None  # overrides PG_SHADOW_URL (tests)


@dataclass
class Proof:
    """One run of the single-target plan, standing for every target of its group."""

    id: str
    representative: str
    targets: list[str]
    schema_fingerprint: str
    pending: list[str]
    status: str = "ok"
    message: str = ""
    plan_fingerprint: str | None = None
    directory: str | None = None  # the plan directory `apply --plan` takes, relative to the project root
    drift: list[str] = field(default_factory=list)
    rollback_verified: bool = False
    findings: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class TargetPlan:
    """One target's line of the fleet plan. Never holds its URL."""

    name: str
    group: str
    schema: str | None
    status: str
    reason: str = ""
    schema_fingerprint: str | None = None
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    proof: str | None = None
    findings: list[dict] = field(default_factory=list)  # this target's own (data pre-checks)


@dataclass
class FleetPlan:
    targets: list[TargetPlan]
    proofs: list[Proof]
    seconds: float = 0.0
    path: Path | None = None

    @property
    def exit_code(self) -> ExitCode:
        return max((FLEET_EXIT.get(t.status, ExitCode.GATE_REFUSED) for t in self.targets), default=ExitCode.OK)

    def rows(self) -> list[ResultRow]:
        return [ResultRow(t.name, t.group, t.status, tuple(t.pending), t.reason) for t in self.targets]

    def to_json(self) -> dict:
        counts: dict[str, int] = {}
        for target in self.targets:
            counts[target.status] = counts.get(target.status, 0) + 1
        return {"version": 1, "command": "plan --fleet", "ok": self.exit_code == ExitCode.OK,
                "exit_code": int(self.exit_code), "counts": counts, "seconds": round(self.seconds, 3),
                "proofs": [asdict(p) | {"seconds": round(p.seconds, 3)} for p in self.proofs],
                "targets": [asdict(t) for t in self.targets]}

    def to_text(self) -> str:
        table = render_table(("TARGET", "GROUP", "STATUS", "PENDING", "PROOF", "DETAILS"),
                             [(t.name, t.group, t.status, ", ".join(t.pending) or "-", t.proof or "-", t.reason)
                              for t in self.targets])
        return table + summary_line(self.rows()) + f"; {len(self.proofs)} proof(s)\n"

    def to_markdown(self) -> str:
        text = render_markdown(self.rows(), "migguard plan --fleet")
        lines = ["", "### Proofs (one per distinct schema)", "",
                 "| Proof | Proved on | Targets | Status | Plan |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {p.id} | {markdown_cell(p.representative)} | {len(p.targets)} | {p.status} | "
                  f"{(p.plan_fingerprint or '')[:12] or '–'} |" for p in self.proofs]
        return text + "\n".join(lines) + "\n"


def run_fleet_plan(options: FleetPlanOptions, config: Config, progress: Progress = lambda _: None) -> FleetPlan:
    started = time.monotonic()
    targets = load_targets(config, options.only)
    assert config.fleet is not None  # load_targets refuses a config without one
    parallel = options.parallel or config.fleet.parallel
    migrations = discover(Path(config.root) / config.migrations, config.layout)
    progress(f"migguard: fleet: reading {len(targets)} target(s), {parallel} at a time")
    surveys = survey_all(config, targets, migrations, parallel)
    groups = group_by_proof(surveys)
    progress(f"migguard: fleet: {len(groups)} distinct schema(s) among {sum(map(len, groups.values()))} "
             "reachable target(s)")
    lines = {s.target.name: _target_line(s) for s in surveys}
    proofs = []
    with _one_shadow(config, options, groups) as shadow_url:
        options = replace(options, shadow_url=shadow_url)
        for number, members in enumerate(groups.values(), 1):
            proof, plan = _prove(f"proof-{number}", members, config, options, progress)
            proofs.append(proof)
            for index, member in enumerate(members):
                line = lines[member.target.name]
                line.proof, line.status, line.reason = proof.id, proof.status, proof.message
                # the proof's own pre-checks read its first target's rows; a tenant's stand-in has none
                if plan is not None and plan.changes and (index > 0 or member.target.schema is not None):
                    _precheck_member(line, member.target, plan)
    fleet_plan = FleetPlan([lines[t.name] for t in targets], proofs, time.monotonic() - started)
    fleet_plan.path = write_fleet_plan(fleet_plan, Path(config.root) / config.plan_dir)
    return fleet_plan


@contextmanager
def _one_shadow(config: Config, options: FleetPlanOptions, groups: dict[str, list[Survey]]) -> Iterator[str | None]:
    """The shadow server every proof uses: PG_SHADOW_URL (or `migguard shadow start`'s), else one
    ephemeral cluster for the whole fleet, on the first target's major, instead of one per proof."""
    given = options.shadow_url or secret("PG_SHADOW_URL", config)
    if given or not groups:
        yield given
        return
    first = next(iter(groups.values()))[0].target
    with ShadowServer(None, Path(config.root) / ".migguard", production=first.url) as shadow:
        yield shadow.url


def _target_line(survey: Survey) -> TargetPlan:
    target = survey.target
    if survey.unreachable is not None:
        return TargetPlan(target.name, target.group, target.schema, "unreachable", survey.unreachable)
    return TargetPlan(target.name, target.group, target.schema, "unproven", "", survey.schema_fingerprint,
                      list(survey.applied), list(survey.pending))


def _prove(proof_id: str, members: list[Survey], config: Config, options: FleetPlanOptions,
           progress: Progress) -> tuple[Proof, Plan | None]:
    """The single-target plan on the group's first target; its result stands for the group."""
    first = members[0]
    proof = Proof(proof_id, first.target.name, [m.target.name for m in members], first.schema_fingerprint or "",
                  list(first.pending))
    progress(f"migguard: fleet: {proof_id}: plan on {first.target.name} for {len(members)} target(s)")
    plan_options = PlanOptions(continue_on_error=options.continue_on_error, accept_drift=options.accept_drift,
                               allow_destructive=options.allow_destructive, strict=options.strict,
                               select=options.select, ignore=options.ignore, prod_url=first.target.url,
                               shadow_url=options.shadow_url)
    if first.target.schema is not None:
        proof.notes.append("schema-per-tenant: proved on a stand-in database holding only the tenant's schema "
                           "(named public there); the data pre-checks ran on each tenant's own rows")
    started = time.monotonic()
    plan = None
    try:
        report, plan = _run_proof(plan_options, config, first.target,
                                  progress=lambda line: progress(f"  [{first.target.name}] {line.strip()}"))
    except PlanRefused as refused:
        errors = [f for f in refused.report.findings if f.severity is Severity.ERROR]
        drift = [f for f in errors if f.rule == "schema-drift"]
        if drift:  # the drift explains the refusal (a migration fails on a schema that drifted)
            proof.status, proof.message = "drifted", f"{drift[0].message} (and the plan was refused: {refused.message})"
        else:
            proof.status = "refused"
            proof.message = f"plan refused: {errors[0].rule}: {errors[0].message}" if errors else \
                f"plan refused: {refused.message}"
        proof.findings = [f.model_dump(mode="json") for f in refused.report.findings]
    except GateRefused as error:
        proof.status, proof.message = "refused", unreachable_reason(first.target, error.message)
    except MigguardError as error:
        proof.status, proof.message = "error", unreachable_reason(first.target, error.message)
    else:
        proof.plan_fingerprint = plan.fingerprint
        proof.directory = _relative(plan.directory, Path(config.root)) if plan.directory else None
        proof.drift = [change.describe() for change in plan.drift]
        proof.rollback_verified = plan.rollback_verified
        proof.findings = [f.model_dump(mode="json") for f in report.findings]
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        if plan.drift and not options.accept_drift:
            proof.status, proof.message = "drifted", f"production differs from the migrations: {proof.drift[0]}" + (
                f" (and {len(proof.drift) - 1} more)" if len(proof.drift) > 1 else "")
        elif not report.ok:
            first_error = errors[0] if errors else report.findings[0]
            proof.status, proof.message = "refused", f"{first_error.rule}: {first_error.message}"
    if first.target.schema is not None and proof.message:
        proof.message += " (on the tenant's stand-in, where its schema is named public)"
    proof.seconds = time.monotonic() - started
    return proof, plan


def _run_proof(options: PlanOptions, config: Config, target: Target, progress: Progress) -> tuple[Report, Plan]:
    """`run_plan` on the target itself, or for a tenant schema on its stand-in (fleet/tenants.py)."""
    if target.schema is None:
        return run_plan(options, target_config(config, target), progress=progress)
    with tenant_stand_in(config, target, options.shadow_url) as (url, shadow):
        return run_plan(replace(options, prod_url=url, shadow_url=shadow), config, progress=progress)


def _precheck_member(line: TargetPlan, target: Target, plan: Plan) -> None:
    """The data pre-checks of the group's change set on this target's own rows (read only)."""
    changes, before, after = plan.changes, plan.before, plan.after
    if target.schema is not None:
        changes, before, after = in_tenant(changes, before, after, target.schema)
    try:
        with connect(target.url, autocommit=True) as conn:
            results = run_prechecks(conn, changes, before, after)
    except MigguardError as error:
        line.status, line.reason = "unreachable", unreachable_reason(target, error.message)
        return
    findings: list[Finding] = [_precheck_finding(result) for result in results]
    line.findings = [f.model_dump(mode="json") for f in findings]
    failing = [f for f in findings if f.severity is Severity.ERROR]
    if failing and line.status == "ok":
        line.status, line.reason = "refused", f"{failing[0].rule}: {failing[0].message}"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def write_fleet_plan(fleet_plan: FleetPlan, plan_dir: Path) -> Path:
    """fleet-plan.json and fleet-plan.md in `plan_dir`, each written to a temporary name, then renamed."""
    texts = {PLAN_FILE: json.dumps(fleet_plan.to_json(), indent=2, default=str) + "\n",
             REPORT_FILE: fleet_plan.to_markdown()}
    try:
        plan_dir.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            handle, temporary = tempfile.mkstemp(prefix=f".{name}-", dir=plan_dir)
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(text)
            os.replace(temporary, plan_dir / name)
    except OSError as error:
        raise InputError(f"cannot write the fleet plan into {plan_dir}: {error.strerror}") from None
    return plan_dir / PLAN_FILE
