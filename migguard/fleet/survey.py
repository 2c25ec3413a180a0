"""Read every target of the fleet, a bounded number at a time: its history and its schema's hash.

What `plan --fleet` and `status --fleet` start from. Production is only read (one read-only
snapshot per target). A target that cannot be reached becomes a `Survey` with its reason, never
an exception: the fleet goes on without it. Reasons name the target, never its URL.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from migguard.core.config import Config
from migguard.core.errors import MigguardError
from migguard.core.identifiers import object_key, quote_ident
from migguard.core.redact import redact_text
from migguard.core.sources import Migration
from migguard.fleet.targets import Target, target_config
from migguard.pg.connect import connect, read_only_snapshot
from migguard.pg.history import AppliedMigration, read_applied, split_name
from migguard.pg.introspect import introspect
from migguard.schema.model import SchemaModel

# A fleet has many targets: one that does not answer must not hold the others for long.
CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class Survey:
    """One target as read: applied and pending versions and its schema fingerprint, or why not."""

    target: Target
    applied: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    schema_fingerprint: str | None = None  # SchemaModel.fingerprint() of production, migguard's schema left out
    last_applied: AppliedMigration | None = None
    unreachable: str | None = None
    edited: tuple[str, ...] = field(default=())  # applied, but the file changed since

    @property
    def proof_key(self) -> str:
        """Targets with the same key need one proof: the same schema, history and pending migrations."""
        material = "\n".join([f"schema:{self.schema_fingerprint}", *(f"applied:{v}" for v in self.applied),
                              *(f"pending:{v}" for v in self.pending)])
        return hashlib.sha256(material.encode()).hexdigest()


def survey_all(config: Config, targets: Sequence[Target], migrations: Sequence[Migration], parallel: int,
               schema: bool = True) -> list[Survey]:
    """Every target surveyed, at most `parallel` at a time, in the targets' order."""
    def one(target: Target) -> Survey:
        return survey_target(config, target, migrations, schema)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="migguard-survey") as pool:
        return list(pool.map(one, targets))


def survey_target(config: Config, target: Target, migrations: Sequence[Migration], schema: bool = True) -> Survey:
    if target.unreachable:
        return Survey(target, unreachable=target.unreachable)
    own_config = target_config(config, target)
    try:
        with connect(target.url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            with read_only_snapshot(conn, "migguard_survey"):
                rows = read_applied(conn, own_config.history_table)
                model = introspect(conn) if schema else None
    except MigguardError as error:
        return Survey(target, unreachable=unreachable_reason(target, error.message))
    applied_versions = {row.version for row in rows}
    files = {m.version: m for m in migrations}
    edited = tuple(row.version for row in rows if row.version in files and files[row.version].checksum() != row.checksum)
    fingerprint = None
    if model is not None:
        model = model.without_schemas(split_name(own_config.history_table)[0])
        fingerprint = tenant_fingerprint(model, target.schema) if target.schema else model.fingerprint()
    return Survey(target, applied=tuple(row.version for row in rows),
                  pending=tuple(m.version for m in migrations if m.version not in applied_versions),
                  schema_fingerprint=fingerprint, last_applied=rows[-1] if rows else None, edited=edited)


TENANT = "{tenant}"
_CATEGORIES = ("tables", "views", "sequences", "functions", "enums", "domains", "composites", "statistics",
               "collations", "rules")


def tenant_schema_model(model: SchemaModel, schema: str) -> SchemaModel:
    """Only the tenant's schema, renamed `{tenant}`: tenants holding the same objects get the same
    fingerprint, whatever their schema is called. References to the schema inside definitions (a
    qualified foreign key, a policy's expression) keep the real name, so such tenants fingerprint
    apart and are proved apart: never merged wrongly, at worst proved twice."""
    others = [name for name in model.schemas if name != schema]
    only = model.without_schemas(*others)
    prefix = object_key(schema) + "."
    renamed: dict[str, dict] = {}
    for category in _CATEGORIES:
        renamed[category] = {TENANT + "." + key[len(prefix):] if key.startswith(prefix) else key:
                             value.model_copy(update={"schema_name": TENANT})
                             for key, value in getattr(only, category).items()}
    return only.model_copy(update={"schemas": {TENANT: only.schemas.get(schema)},
                                   "schema_grants": {TENANT: only.schema_grants.get(schema, {})}, **renamed})


def tenant_fingerprint(model: SchemaModel, schema: str) -> str:
    """SHA-256 of the tenant's schema with its own name written `{tenant}`: in the object keys, and
    where definitions qualify a name with it (an index's `ON tenant_a.accounts`, a sequence's
    owner). A reference to another tenant's schema stays as it is, so that tenant hashes apart."""
    text = tenant_schema_model(model, schema).canonical_json()
    forms = {schema, json.dumps(quote_ident(schema))[1:-1]}  # bare, and "quoted" as inside a JSON string
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w$])(?:{alternatives})(?=\.)")
    return hashlib.sha256(pattern.sub(TENANT, text).encode("utf-8")).hexdigest()


def unreachable_reason(target: Target, message: str) -> str:
    """A failure's message with the target's (redacted) URL replaced by its name."""
    return redact_text(message).replace(redact_text(target.url), f"target {target.name}") if target.url else message


def group_by_proof(surveys: Sequence[Survey]) -> dict[str, list[Survey]]:
    """Reachable targets by proof key, each group in rollout order, groups in order of first member."""
    groups: dict[str, list[Survey]] = {}
    for survey in surveys:
        if survey.unreachable is None:
            groups.setdefault(survey.proof_key, []).append(survey)
    return groups


def when(row: AppliedMigration | None) -> str | None:
    """When a history row was applied, ISO 8601 in UTC, or None."""
    started: datetime | None = row.started_at if row else None
    return started.isoformat() if started else None

