"""`migguard status`: applied, pending and edited migrations, and drift of production.

Production is only read. Drift is production's schema against a replay of the applied
migrations on the shadow, the same comparison `plan` makes: both read on the shadow server
(`migguard.drift.clone`), and the statements production ran of a part-way migration
(`migguard.pg.partway`) are replayed too, so they are not drift. An applied migration that does
not replay, or an extension of production the shadow lacks, raises ShadowRefused
(`migguard.drift.replay`: exit 1, not a database failure).
Part-way migrations are listed with how many of their statements ran and the last failure the
audit log recorded for them.
"""

from __future__ import annotations

from pathlib import Path

from migguard.core.audit import AuditLog
from migguard.core.config import Config, secret
from migguard.core.errors import InputError
from migguard.core.redact import redact_text
from migguard.core.sources import discover
from migguard.drift.clone import production_on_shadow
from migguard.drift.replay import replay_history
from migguard.drift.results import PartWayStatus, Status
from migguard.pg import preflight
from migguard.pg.connect import connect
from migguard.pg.history import read_applied
from migguard.pg.introspect import introspect
from migguard.pg.shadow import ShadowServer
from migguard.pg.partway import read_part_way, run_recorded
from migguard.schema.diff import diff


def run_status(config: Config, prod_url: str | None = None, shadow_url: str | None = None,
               check_drift: bool = True) -> Status:
    prod_url = prod_url or secret("PG_PROD_URL", config)
    if not prod_url:
        raise InputError("PG_PROD_URL is not set (environment or the env file): status reads production")
    migrations = discover(Path(config.root) / config.migrations, config.layout)
    preflight.require(prod_url, preflight.Needs(history=preflight.own_tables(config.history_table), schema_dump=False),
                      "what status needs")
    with connect(prod_url) as prod:
        rows = read_applied(prod, config.history_table)
        recorded = {row.version for row in rows}
        part_way, mismatches = read_part_way(prod, config.history_table,
                                             [m for m in migrations if m.version not in recorded])
        prod.rollback()
    files = {m.version: m for m in migrations}
    status = Status(redact_text(prod_url), drift_checked=check_drift)
    applied_versions = {row.version for row in rows}
    for row in rows:
        if row.version not in files:
            status.missing.append(row.version)
            continue
        status.applied.append(row.version)
        if files[row.version].checksum() != row.checksum:
            status.edited.append(row.version)
    status.pending = [m.version for m in migrations if m.version not in applied_versions]
    failures = _last_failures(AuditLog(Path(config.root) / config.audit_log)) if part_way else {}
    status.part_way = [PartWayStatus(p.version, sorted(p.done), len(p.statements), failures.get(p.version))
                       for p in part_way]
    status.part_way_edited = [m.message for m in mismatches]
    if check_drift:
        own = config.history_path[0]
        applied = [m for m in migrations if m.version in applied_versions]
        with ShadowServer(shadow_url or secret("PG_SHADOW_URL", config), Path(config.root) / ".migguard",
                          production=prod_url) as shadow:
            database = replay_history(shadow, applied, prod_url)
            try:
                for part in part_way:
                    with connect(shadow.database_url(database), autocommit=True) as conn:
                        run_recorded(conn, part)
                replayed = introspect(shadow.database_url(database)).without_schemas(own)
            finally:
                shadow.drop_database(database)
            # read on the shadow too, so deparsing that differs between majors is not drift; the
            # INVALID leftovers of a failed CREATE INDEX CONCURRENTLY are not restored (pg_dump skips them)
            production = production_on_shadow(shadow, prod_url, own)
        status.drift = diff(replayed, production)
    return status


def _last_failures(audit: AuditLog) -> dict[str, str]:
    """version -> "<time>: <first line of the error>" of the latest failed apply of it in the audit log."""
    found = {}
    for entry in audit.entries():
        details = entry.get("details") or {}
        if entry.get("result") == "failed" and isinstance(details, dict) and details.get("failed"):
            error = str(details.get("error") or "").strip().splitlines()
            found[str(details["failed"])] = f"{entry.get('time', '?')}: {error[0] if error else 'no error recorded'}"
    return found
