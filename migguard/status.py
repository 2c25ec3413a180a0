"""`migguard status`: applied, pending and edited migrations, and drift of production.

Production is only read. Drift is production's schema against a replay of the applied
migrations on the shadow, the same comparison `plan` makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migguard.apply.history import read_applied
from migguard.config import Config, secret
from migguard.db.connect import connect
from migguard.db.diff import Change, diff
from migguard.db.introspect import introspect
from migguard.db.shadow import ShadowServer
from migguard.errors import InputError
from migguard.redact import redact_text
from migguard.sources import discover


@dataclass
class Status:
    target: str
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)  # applied, but the file's checksum changed since
    missing: list[str] = field(default_factory=list)  # applied in production, no file any more
    drift: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.edited or self.missing or self.drift)


def run_status(config: Config, prod_url: str | None = None, shadow_url: str | None = None,
               check_drift: bool = True) -> Status:
    prod_url = prod_url or secret("PG_PROD_URL", config)
    if not prod_url:
        raise InputError("PG_PROD_URL is not set (environment or the env file): status reads production")
    migrations = discover(Path(config.root) / config.migrations, config.layout)
    with connect(prod_url) as prod:
        rows = read_applied(prod, config.history_table)
        prod.rollback()
    files = {m.version: m for m in migrations}
    status = Status(redact_text(prod_url))
    applied_versions = {row.version for row in rows}
    for row in rows:
        if row.version not in files:
            status.missing.append(row.version)
            continue
        status.applied.append(row.version)
        if files[row.version].checksum() != row.checksum:
            status.edited.append(row.version)
    status.pending = [m.version for m in migrations if m.version not in applied_versions]
    if check_drift:
        own = config.history_path[0]
        applied = [m for m in migrations if m.version in applied_versions]
        with ShadowServer(shadow_url or secret("PG_SHADOW_URL", config), Path(config.root) / ".migguard",
                          production=prod_url) as shadow:
            database = shadow.replay(applied)
            try:
                replayed = introspect(shadow.database_url(database)).without_schemas(own)
            finally:
                shadow.drop_database(database)
        status.drift = diff(replayed, introspect(prod_url).without_schemas(own))
    return status
