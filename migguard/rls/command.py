"""`migguard rls check [--probe]`: the RLS audit of a database, and the two-tenant isolation probe
on a shadow clone of its schema (never on the database itself). Also the RLS step of `plan`."""

from __future__ import annotations

from pathlib import Path

from migguard.core.config import Config, secret
from migguard.core.errors import InputError
from migguard.core.findings import Finding, Report, Severity
from migguard.lint.engine import ConfiguredFindings
from migguard.pg.shadow import ShadowServer
from migguard.rls.audit import audit
from migguard.rls.probe import probe


def _settings(config: Config) -> dict:
    return {"tenant_column": config.tenant_column, "tenant_setting": config.tenant_setting,
            "app_roles": tuple(config.app_roles), "exempt_tables": tuple(config.rls.exempt_tables)}


def audit_and_probe(shadow_database_url: str, config: Config) -> list[Finding]:
    """Audit + probe of a database that is already a shadow copy (plan's migrated clone)."""
    found = list(audit(shadow_database_url, **_settings(config)).findings)
    found += probe(shadow_database_url, **_settings(config)).findings
    return _unique(found)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, result = set(), []
    for finding in findings:
        key = (finding.rule, finding.path, finding.message)
        if key not in seen:
            seen.add(key)
            result.append(finding)
    return result


def run_rls_check(config: Config, url: str | None = None, with_probe: bool = False,
                  shadow_url: str | None = None) -> Report:
    """Audit `url` (default PG_PROD_URL) read-only; with the probe, on a shadow clone of its schema."""
    target = url or secret("PG_PROD_URL", config)
    if not target:
        raise InputError("no database to check: give --url or set PG_PROD_URL (environment or the env file)")
    findings = list(audit(target, **_settings(config)).findings)
    if with_probe:
        with ShadowServer(shadow_url or secret("PG_SHADOW_URL", config), Path(config.root) / ".migguard",
                          production=target) as shadow:
            clone = shadow.create_database()
            try:
                shadow.clone_schema(target, clone)
                findings += probe(shadow.database_url(clone), **_settings(config)).findings
            finally:
                shadow.drop_database(clone)
    configured = ConfiguredFindings(config.rules)
    configured += _unique(findings)
    findings = sorted(configured, key=lambda f: f.sort_key)
    summary = {
        "errors": sum(1 for f in findings if f.severity == Severity.ERROR),
        "warnings": sum(1 for f in findings if f.severity == Severity.WARNING),
        "infos": sum(1 for f in findings if f.severity == Severity.INFO),
        "probe": with_probe,
    }
    return Report(command="rls check", ok=summary["errors"] == 0, findings=tuple(findings), summary=summary)
