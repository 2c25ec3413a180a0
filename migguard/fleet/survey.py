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
    """Every target surveyed, at most `parallel` at a time, in the targets' order. A database
    holding tenant schemas is read once for all its tenants, not once per tenant."""
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="migguard-survey") as pool:
        tenant_urls = sorted({t.url for t in targets if t.schema is not None and not t.unreachable}) if schema else []
        shared = dict(zip(tenant_urls, pool.map(lambda url: _read_model(config, url), tenant_urls)))
        return list(pool.map(lambda target: survey_target(config, target, migrations, schema, shared.get(target.url)),
                             targets))


def _read_model(config: Config, url: str) -> SchemaModel | str:
    """A tenant database's whole schema (migguard's left out), or the reason it cannot be read."""
    try:
        with connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            return introspect(conn, exclude_schemas=(config.history_path[0],))
    except MigguardError as error:
        return error.message


def survey_target(config: Config, target: Target, migrations: Sequence[Migration], schema: bool = True,
                  database_model: SchemaModel | str | None = None) -> Survey:
    """One target read; `database_model` is its database's schema when already read (tenants)."""
    if target.unreachable:
        return Survey(target, unreachable=target.unreachable)
    if isinstance(database_model, str):
        return Survey(target, unreachable=unreachable_reason(target, database_model))
    own_config = target_config(config, target)
    own_schema = split_name(own_config.history_table)[0]
    try:
        with connect(target.url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            with read_only_snapshot(conn, "migguard_survey"):
                rows = read_applied(conn, own_config.history_table)
                model = database_model
                if schema and model is None:
                    model = introspect(conn).without_schemas(own_schema)
    except MigguardError as error:
        return Survey(target, unreachable=unreachable_reason(target, error.message))
    applied_versions = {row.version for row in rows}
    files = {m.version: m for m in migrations}
    edited = tuple(row.version for row in rows if row.version in files and files[row.version].checksum() != row.checksum)
    fingerprint = None
    if schema and model is not None:
        fingerprint = tenant_fingerprint(model, target.schema) if target.schema else model.fingerprint()
    return Survey(target, applied=tuple(row.version for row in rows),
                  pending=tuple(m.version for m in migrations if m.version not in applied_versions),
                  schema_fingerprint=fingerprint, last_applied=rows[-1] if rows else None, edited=edited)


TENANT = "{tenant}"
_CATEGORIES = ("tables", "views", "sequences", "functions", "enums", "domains", "composites", "statistics",
               "collations", "rules")


def tenant_schema_model(model: SchemaModel, schema: str) -> SchemaModel:
    """Only the tenant's schema (and the database's extensions), its keys and objects renamed
    `{tenant}`. Read in one pass over the objects: a database may hold hundreds of tenants."""
    prefix = object_key(schema) + "."
    renamed: dict[str, dict] = {}
    for category in _CATEGORIES:
        renamed[category] = {TENANT + "." + key[len(prefix):] if key.startswith(prefix) else key:
                             value.model_copy(update={"schema_name": TENANT})
                             for key, value in getattr(model, category).items() if value.schema_name == schema}
    return model.model_copy(update={"schemas": {TENANT: model.schemas.get(schema)},
                                    "schema_grants": {TENANT: model.schema_grants.get(schema, {})}, **renamed})


def tenant_fingerprint(model: SchemaModel, schema: str) -> str:
    """SHA-256 of the tenant's schema with its own name written `{tenant}`: in the object keys, and
    where definitions qualify a name with it (an index's `ON tenant_a.accounts`, a sequence's
    owner), so tenants holding the same objects share a fingerprint whatever their schema is
    called. A reference to another schema keeps its name, so such a tenant hashes apart: tenants
    are never merged wrongly, at worst proved twice. (A table alias spelled like the tenant's own
    schema, `tenant_a.col` in a view, is normalised too.)"""
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

