"""The fleet's targets, in rollout order: the canary group first, then waves of `wave_size`.

Targets come from `[tool.migguard.fleet]`: named environment keys (the URL stays a secret, read
through the same environment/env-file reader as PG_PROD_URL), a discovery query on a registry
database, and the schemas of one database matching a pattern (schema-per-tenant). A target whose
key is not set is not an error for the fleet: it is kept, marked `unreachable`, and reported with
its reason while the others go on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import psycopg
from psycopg import sql

from migguard.core.config import (Config, FleetConfig, FleetDiscovery, FleetTenantSchemas, env_key, secret,
                                  target_name)
from migguard.core.errors import ConfigError, InputError, MigguardError
from migguard.core.identifiers import parse_qualified, quote_qualified
from migguard.pg.connect import connect, describe, read_only_snapshot

CANARY = "canary"
# Schemas a tenant pattern never matches: PostgreSQL's own and migguard's.
_SYSTEM_SCHEMAS = ("information_schema",)
_MAX_IDENTIFIER_BYTES = 63


@dataclass(frozen=True)
class Target:
    """One database (or one tenant schema in a database) the fleet's change reaches."""

    name: str
    url: str = field(repr=False)  # a secret: never printed, never in a file name
    schema: str | None = None  # schema-per-tenant: migrations run with this search_path
    group: str = CANARY  # "canary" or "wave-<n>"
    # Why the target cannot be reached before connecting (its env key is not set); None: try it.
    unreachable: str | None = None

    def history_table(self, config: Config) -> str:
        """The history table for this target: the configured one, or for a tenant schema its own
        `<schema>."<table>@<tenant>"`, so tenants of one database keep independent histories."""
        return tenant_history_table(config.history_table, self.schema)


def tenant_history_table(history_table: str, tenant: str | None) -> str:
    """`migguard."schema_migrations@<tenant>"` (quoted); names over 63 bytes use a hash of the tenant
    instead, since PostgreSQL would truncate them and two tenants could share one table."""
    if tenant is None:
        return history_table
    schema, table = parse_qualified(history_table, 2)
    name = f"{table}@{tenant}"
    if len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
        name = f"{table[:30]}@{hashlib.sha256(tenant.encode('utf-8')).hexdigest()[:24]}"
    return quote_qualified(schema, name)


def target_config(config: Config, target: Target) -> Config:
    """The single-target config for `target`: its own history table (tenants), everything else shared."""
    if target.schema is None:
        return config
    return config.model_copy(update={"history_table": target.history_table(config)})


def load_targets(config: Config, only: tuple[str, ...] = ()) -> list[Target]:
    """Every target of the fleet in rollout order (canary, then wave-1, wave-2, ...), or only the
    named ones (keeping their groups). An unknown name in `only` or `canary` is an input error."""
    fleet = config.fleet
    if fleet is None:
        raise ConfigError(f"{config.source or 'the configuration'}: no [tool.migguard.fleet] table: "
                          "name the targets there (see README 'Fleets')")
    found = _static_targets(config, fleet)
    if fleet.discovery is not None:
        found += _discovered_targets(config, fleet.discovery)
    if fleet.tenant_schemas is not None:
        found += _tenant_targets(config, fleet.tenant_schemas)
    _check_unique(found)
    names = {target.name for target in found}
    unknown_canary = [name for name in fleet.canary if name not in names]
    if unknown_canary:
        raise ConfigError(f"fleet.canary names unknown target(s): {', '.join(unknown_canary)}")
    ordered = assign_groups(found, fleet.canary, fleet.wave_size)
    unknown_only = [name for name in only if name not in names]
    if unknown_only:
        raise InputError(f"--only names unknown target(s): {', '.join(unknown_only)}")
    if only:
        return [target for target in ordered if target.name in only]
    return ordered


def assign_groups(targets: list[Target], canary: tuple[str, ...], wave_size: int) -> list[Target]:
    """Canary targets first (in the canary list's order), then the rest in waves of `wave_size`."""
    by_name = {target.name: target for target in targets}
    first = [replace(by_name[name], group=CANARY) for name in canary]
    rest = [target for target in targets if target.name not in set(canary)]
    waves = [replace(target, group=f"wave-{index // wave_size + 1}") for index, target in enumerate(rest)]
    return first + waves


def _static_targets(config: Config, fleet: FleetConfig) -> list[Target]:
    return [_from_key(config, name, key, None) for name, key in fleet.targets.items()]


def _from_key(config: Config, name: str, key: str, schema: str | None) -> Target:
    try:
        url = secret(key, config)
    except MigguardError as error:  # set, but not a PostgreSQL URL: this target only
        return Target(name, "", schema, unreachable=f"{key}: {error.message}")
    if not url:
        return Target(name, "", schema, unreachable=f"{key} is not set")
    return Target(name, url, schema)


def _registry_url(config: Config, key: str, what: str) -> str:
    url = secret(key, config)
    if not url:
        raise InputError(f"{key} is not set (environment or the env file): {what} reads it")
    return url


def _discovered_targets(config: Config, discovery: FleetDiscovery) -> list[Target]:
    """Rows (name, env_key) of the discovery query, read in a read-only snapshot of the registry."""
    url = _registry_url(config, discovery.url_env, "fleet.discovery")
    with connect(url) as registry:
        with read_only_snapshot(registry, "migguard_discovery"):
            try:
                cursor = registry.execute(discovery.query.encode("utf-8"))
            except psycopg.Error as error:  # the query is the user's, its message names it
                raise ConfigError(f"fleet.discovery query failed: {describe(error)}") from None
            if cursor.description is None or len(cursor.description) < 2:
                raise ConfigError("fleet.discovery query must return two columns: target name, env key")
            rows = cursor.fetchall()
    targets = []
    for row in rows:
        name, key = (str(row[0]) if row[0] is not None else ""), (str(row[1]) if row[1] is not None else "")
        try:
            target_name(name)
        except ValueError as error:
            raise ConfigError(f"fleet.discovery returned a bad target name: {error}") from None
        try:
            env_key(key)
        except ValueError as error:
            raise ConfigError(f"fleet.discovery, target {name!r}: {error}") from None
        targets.append(_from_key(config, name, key, None))
    return targets


def _tenant_targets(config: Config, tenants: FleetTenantSchemas) -> list[Target]:
    """One target per schema of the database whose name matches the pattern, in name order."""
    url = _registry_url(config, tenants.url_env, "fleet.tenant_schemas")
    own = parse_qualified(config.history_table, 2)[0]
    operator = sql.SQL("LIKE") if tenants.match == "like" else sql.SQL("~")
    query = sql.SQL("SELECT nspname FROM pg_namespace WHERE nspname {} %s AND nspname NOT LIKE 'pg\\_%%'"
                    " AND nspname <> ALL(%s) ORDER BY nspname COLLATE \"C\"").format(operator)
    with connect(url) as conn:
        with read_only_snapshot(conn, "migguard_tenants"):
            try:
                rows = conn.execute(query, (tenants.pattern, [*_SYSTEM_SCHEMAS, own])).fetchall()
            except psycopg.Error as error:  # a bad regular expression
                raise ConfigError(f"fleet.tenant_schemas pattern: {describe(error)}") from None
    targets = []
    for (schema,) in rows:
        try:
            target_name(schema)
        except ValueError as error:
            raise ConfigError(f"fleet.tenant_schemas matched a schema that cannot name a target: {error}") from None
        targets.append(Target(schema, url, schema))
    return targets


def _check_unique(targets: list[Target]) -> None:
    seen: set[str] = set()
    for target in targets:
        if target.name in seen:
            raise ConfigError(f"fleet target {target.name!r} is named twice (targets, discovery, tenant_schemas)")
        seen.add(target.name)
