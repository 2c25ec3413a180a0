"""`migguard status --fleet`: per target, the applied version, what is pending, drift, and the last
live result with its time.

Every target is read `parallel` at a time (fleet/survey.py), production read only. Drift is
checked once per group of targets with the same schema and history (the single-target
`run_status` on the group's first target: the same replay-and-compare), and holds for the whole
group. The last result is the newest final entry of the audit log for the target (apply,
rollback), else the newest row of its history table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from migguard.core.audit import FINAL_RESULTS, LIVE_COMMANDS, AuditLog
from migguard.core.config import Config, secret
from migguard.core.errors import MigguardError
from migguard.core.exit_codes import ExitCode
from migguard.core.redact import redact_text
from migguard.core.sources import discover
from migguard.drift.status import run_status
from migguard.fleet.report import ResultRow, render_markdown, render_table, summary_line
from migguard.fleet.survey import Survey, group_by_proof, survey_all, unreachable_reason, when
from migguard.fleet.targets import Target, load_targets, target_config
from migguard.fleet.tenants import tenant_stand_in

Progress = Callable[[str], None]


@dataclass
class TargetStatus:
    """One target's line of `status --fleet`. Never holds its URL."""

    name: str
    group: str
    schema: str | None
    status: str  # ok | pending | drifted | edited | unreachable
    applied_version: str | None = None
    applied: int = 0
    pending: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    drift: list[str] | None = None  # None: not checked (--no-drift, or it could not be)
    drift_note: str = ""
    last_result: str | None = None  # e.g. "apply applied", "rollback rolled-back", "history: 0002 applied"
    last_at: str | None = None
    reason: str = ""


@dataclass
class FleetStatus:
    targets: list[TargetStatus]
    drift_checked: bool

    @property
    def exit_code(self) -> ExitCode:
        """0 when every target is reachable and in line (pending is fine); 1 for drift or an edited
        migration; 3 when a target cannot be reached."""
        statuses = {t.status for t in self.targets}
        if "unreachable" in statuses:
            return ExitCode.DATABASE
        return ExitCode.GATE_REFUSED if statuses & {"drifted", "edited"} else ExitCode.OK

    def rows(self) -> list[ResultRow]:
        return [ResultRow(t.name, t.group, t.status, tuple(t.pending), t.reason or _drift_text(t)) for t in self.targets]

    def to_json(self) -> dict:
        return {"version": 1, "command": "status --fleet", "ok": self.exit_code == ExitCode.OK,
                "exit_code": int(self.exit_code), "drift_checked": self.drift_checked,
                "targets": [asdict(t) for t in self.targets]}

    def to_text(self) -> str:
        table = render_table(
            ("TARGET", "GROUP", "STATUS", "APPLIED", "PENDING", "DRIFT", "LAST RESULT", "WHEN"),
            [(t.name, t.group, t.status, t.applied_version or "-", ", ".join(t.pending) or "-",
              t.reason or _drift_text(t), t.last_result or "-", t.last_at or "-") for t in self.targets])
        return table + summary_line(self.rows()) + "\n"

    def to_markdown(self) -> str:
        return render_markdown(self.rows(), "migguard status --fleet")


def _drift_text(target: TargetStatus) -> str:
    if target.drift is None:
        return target.drift_note or "not checked"
    if not target.drift:
        return "none"
    return f"{len(target.drift)} change(s): {target.drift[0]}"


def run_fleet_status(config: Config, only: tuple[str, ...] = (), parallel: int | None = None,
                     check_drift: bool = True, shadow_url: str | None = None,
                     progress: Progress = lambda _: None) -> FleetStatus:
    targets = load_targets(config, only)
    assert config.fleet is not None  # load_targets refuses a config without one
    migrations = discover(Path(config.root) / config.migrations, config.layout)
    workers = parallel or config.fleet.parallel
    progress(f"migguard: fleet: reading {len(targets)} target(s), {workers} at a time")
    surveys = survey_all(config, targets, migrations, workers, schema=check_drift)
    audit = _last_results(AuditLog(Path(config.root) / config.audit_log), targets)
    lines = {s.target.name: _line(s, audit.get(s.target.name)) for s in surveys}
    if check_drift:
        for members in group_by_proof(surveys).values():
            drift, note = _group_drift(config, members[0].target, shadow_url, progress)
            for member in members:
                line = lines[member.target.name]
                line.drift, line.drift_note = drift, note
                if drift and line.status in ("ok", "pending"):
                    line.status = "drifted"
    return FleetStatus([lines[t.name] for t in targets], check_drift)


def _line(survey: Survey, audited: dict | None) -> TargetStatus:
    target = survey.target
    if survey.unreachable is not None:
        line = TargetStatus(target.name, target.group, target.schema, "unreachable", reason=survey.unreachable)
    else:
        status = "edited" if survey.edited else "pending" if survey.pending else "ok"
        line = TargetStatus(target.name, target.group, target.schema, status,
                            applied_version=survey.applied[-1] if survey.applied else None,
                            applied=len(survey.applied), pending=list(survey.pending), edited=list(survey.edited),
                            reason=f"edited after it was applied: {', '.join(survey.edited)}" if survey.edited else "")
    if audited is not None:
        line.last_result, line.last_at = f"{audited.get('command')} {audited.get('result')}", audited.get("time")
    elif survey.last_applied is not None:
        line.last_result, line.last_at = f"{survey.last_applied.version} applied", when(survey.last_applied)
    return line


def _group_drift(config: Config, target: Target, shadow_url: str | None,
                 progress: Progress) -> tuple[list[str] | None, str]:
    progress(f"migguard: fleet: drift of {target.name} (and the targets with its schema and history)")
    try:
        if target.schema is None:
            status = run_status(target_config(config, target), prod_url=target.url, shadow_url=shadow_url)
        else:  # a tenant schema: compared as its stand-in (fleet/tenants.py), as plan --fleet proves it
            with tenant_stand_in(config, target, shadow_url or secret("PG_SHADOW_URL", config)) as (url, shadow):
                status = run_status(config, prod_url=url, shadow_url=shadow)
    except MigguardError as error:
        return None, f"not checked: {unreachable_reason(target, error.message)}"
    return [change.describe() for change in status.drift], ""


def _last_results(audit: AuditLog, targets: Sequence[Target]) -> dict[str, dict]:
    """target name -> the newest final apply/rollback entry recorded for it. An entry names its
    target by `details.fleet_target`, or by the redacted URL (and `tenant`, for a tenant schema)."""
    by_url = {(redact_text(t.url), t.schema): t.name for t in targets if t.url}
    names = {t.name for t in targets}
    found: dict[str, dict] = {}
    for entry in audit.entries():
        if entry.get("command") not in LIVE_COMMANDS or entry.get("result") not in FINAL_RESULTS:
            continue
        details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
        name = details.get("fleet_target") if details.get("fleet_target") in names else \
            by_url.get((entry.get("target"), entry.get("tenant")))
        if name is not None:
            found[name] = entry
    return found
