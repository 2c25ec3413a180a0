"""The gates `apply` evaluates before it writes (the dry run evaluates the same ones): history
checksums, lint, destructive changes, fingerprint (production and the files are what was
planned), drift, and every finding of the plan's database steps at failing severity. A
finding passes only when a person accepted it (`Acceptance`). Any refusal is GateRefused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from migguard.core.config import Config, acceptable_finding_ids
from migguard.core.errors import GateRefused, InputError
from migguard.core.identifiers import comment_safe
from migguard.core.sources import Migration
from migguard.lint.context import LintSettings
from migguard.lint.engine import LintTarget, RulePolicy, gate_passes, lint_live
from migguard.pg.introspect import introspect
from migguard.plan.command import SavedPlan, fingerprint


def check_lint(pending: list[Migration], config: Config, allow_destructive: bool, strict: bool) -> list[str]:
    """Lint the pending migrations as the live path sees them; returns the destructive findings accepted
    by an in-file ignore together with --allow-destructive ("rule at file:line"), to print and audit.

    Live mode: an in-file ignore (or a config entry) never accepts a destructive finding on its own,
    only --allow-destructive does. No cache: the gate cannot authenticate one (see lint.lint_live).
    """
    policy = RulePolicy.build(config.rules, (), (), allow_destructive, live=True)
    settings = LintSettings.from_config(config)
    targets = [LintTarget(m.up.as_posix(), m.up_sql()) for m in pending]
    result = lint_live(targets, settings, policy)
    if not gate_passes(result.findings, strict):
        failing = sorted({f"{f.rule} in {Path(f.path).name}" for f in result.findings if f.severity == "error"})
        ignored = {(f.rule, f.path, f.line) for f in result.ignored_destructive}
        note = ("; an in-file ignore does not accept a destructive statement on the live path: "
                "add --allow-destructive" if any((f.rule, f.path, f.line) in ignored for f in result.findings) else "")
        raise GateRefused(f"lint refuses the pending migrations: {', '.join(failing[:5])}"
                          + (" …" if len(failing) > 5 else "") + note)
    return [f"{f.rule} at {Path(f.path).name}:{f.line}" for f in result.ignored_destructive]


DRIFT = "schema-drift"
CHECKSUM_MISMATCH = "checksum-mismatch"


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A person's explicit yes to one finding id: from the config (with its reason) or a flag."""

    id: str
    source: str  # "config" ([tool.migguard.accept]) | "flag" (--accept, --accept-drift)
    reason: str | None

    def describe(self) -> str:
        where = "[tool.migguard.accept]" if self.source == "config" else "flag"
        return f"{self.id} ({where}{': ' + self.reason if self.reason else ''})"

    def audit(self) -> dict:
        return {"id": self.id, "source": self.source, "reason": self.reason}


def acceptances(configured: Mapping[str, str], flags: Iterable[str], accept_drift: bool) -> dict[str, Acceptance]:
    """Finding id -> its acceptance. A flag wins over the config entry (the person said it now) and
    keeps the config's reason when there is one; --accept-drift is the flag for schema-drift.
    An unknown id on the command line is an input error (the config's are checked when it loads)."""
    known = acceptable_finding_ids()
    accepted = {finding_id: Acceptance(finding_id, "config", reason) for finding_id, reason in configured.items()}
    for finding_id in [*flags, *([DRIFT] if accept_drift else [])]:
        if finding_id not in known:
            raise InputError(f"--accept {comment_safe(finding_id)}: unknown finding id (it takes the id of a finding of the "
                             "plan's database steps, as `migguard rules` lists them)")
        accepted[finding_id] = Acceptance(finding_id, "flag", configured.get(finding_id))
    return accepted


def failing_findings(plan: SavedPlan, strict: bool) -> list[dict]:
    """The plan's database findings that refuse apply unless accepted: errors (and warnings with --strict)."""
    failing = ("error", "warning") if strict else ("error",)
    return [f for f in plan.database_findings() if f["severity"] in failing]


def check_plan_findings(plan: SavedPlan, accepted: Mapping[str, Acceptance], strict: bool) -> list[Acceptance]:
    """Refuse while any failing finding of the plan is not accepted, naming each; else the acceptances used."""
    failing = failing_findings(plan, strict)
    refused = [f for f in failing if f["rule"] not in accepted]
    if refused:
        named = "; ".join(dict.fromkeys(comment_safe(f"{f['rule']} at {f['path']}") for f in refused))
        raise GateRefused(f"the plan has {len(refused)} finding(s) nobody accepted: {named}. Fix the migration, "
                          "or accept each with --accept ID or [tool.migguard.accept] ID = \"reason\"")
    return [accepted[rule] for rule in dict.fromkeys(f["rule"] for f in failing)]


def check_applied_checksums(applied: list[Migration], recorded: dict[str, str],
                            accepted: Mapping[str, Acceptance]) -> list[Acceptance]:
    """An applied migration whose file changed since it ran is an error: production ran other SQL."""
    edited = [m.version for m in applied if recorded.get(m.version) not in (None, m.checksum())]
    if edited and CHECKSUM_MISMATCH in accepted:
        return [accepted[CHECKSUM_MISMATCH]]
    if edited:
        raise GateRefused(f"applied migration(s) {', '.join(edited)} were edited after they ran in production "
                          "(checksum mismatch): restore the files and put changes in a new migration")
    return []


def check_destructive(plan: SavedPlan, allow_destructive: bool) -> None:
    destructive = plan.destructive_changes()
    if destructive and not allow_destructive:
        raise GateRefused(f"the plan has destructive changes ({', '.join(destructive[:3])}"
                          f"{' …' if len(destructive) > 3 else ''}): add --allow-destructive to apply them")


def check_fingerprint(plan: SavedPlan, pending: list[Migration], prod_url: str, own_schema: str) -> None:
    """The plan is stale when production's schema or any pending file changed since planning."""
    if [m.version for m in pending] != plan.pending:
        raise GateRefused(f"stale plan: it was made for pending migrations {plan.pending}, "
                          f"production now has {[m.version for m in pending]} pending; plan again")
    planned = plan.checksums()
    edited = [m.version for m in pending if planned.get(m.version) not in (None, m.checksum())]
    if edited:
        raise GateRefused(f"stale plan: migration file(s) {', '.join(edited)} changed since planning; plan again")
    current = fingerprint(pending, introspect(prod_url).without_schemas(own_schema).fingerprint())
    if current != plan.fingerprint:
        raise GateRefused("stale plan: production's schema changed since planning (fingerprint "
                          f"{plan.fingerprint[:12]} planned, {current[:12]} now); plan again")


def check_drift(plan: SavedPlan, accepted: Mapping[str, Acceptance]) -> list[Acceptance]:
    """Drift the plan found refuses unless schema-drift is accepted (--accept-drift is that acceptance)."""
    drift = plan.document.get("drift") or []
    if drift and DRIFT not in accepted:
        raise GateRefused(f"production has drifted from the migrations ({len(drift)} difference(s)); "
                          "fix it, or pass --accept-drift")
    return [accepted[DRIFT]] if drift else []
