"""Configuration: one pydantic model, read from `[tool.migguard]` or `migguard.toml`.

Defaults live in code. An unknown key, an unknown rule id or a bad value is a ConfigError
naming the key and the file. Secrets never come from here: connection strings are read only
from the environment or the env file (see `secret`).
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from migguard.core.durations import duration_ms, parse_duration
from migguard.core.errors import ConfigError, InputError
from migguard.core.identifiers import parse_qualified

RuleSetting = Literal["off", "info", "warning", "error"]
Layout = Literal["auto", "plain", "flyway", "updown", "dbmate"]


def _reason(value: str) -> str:
    if not value.strip():
        raise ValueError("a reason is required (why apply may proceed despite this finding)")
    return value.strip()


# Why a person accepts a finding: required, and more than blanks.
Reason = Annotated[str, AfterValidator(_reason)]


class RlsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exempt_tables: tuple[str, ...] = ()

    @field_validator("exempt_tables")
    @classmethod
    def _table_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:  # `schema.table` or `table` (public), each part bare or quoted
            try:
                parse_qualified(entry, 2 if _has_schema(entry) else 1)
            except ValueError as error:
                raise ValueError(f"{entry!r}: {error}") from None
        return value


class ScanConfig(BaseModel):
    """[tool.migguard.scan]: what `migguard scan-app` monitors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The tenant tables, when the migrations do not create them (a database older than its migrations);
    # None: not set (scan-app reads the migrations, then production's catalog).
    tables: tuple[str, ...] | None = None

    @field_validator("tables")
    @classmethod
    def _table_names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("expected at least one table name (remove the key to read the tables from the "
                             "migrations or production)")
        for entry in value:  # `schema.table` or `table`, each part bare or quoted
            try:
                parse_qualified(entry, 2 if _has_schema(entry) else 1)
            except ValueError as error:
                raise ValueError(f"{entry!r}: {error}") from None
        return value


_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_TARGET_NAME = 128


def target_name(value: str) -> str:
    """A fleet target's name: 1 to 128 characters, no control character, no path separator.
    Names reach file names, reports and the audit; URLs never do (the name stands for them)."""
    if not value or len(value) > MAX_TARGET_NAME:
        raise ValueError(f"expected a target name of 1 to {MAX_TARGET_NAME} characters")
    if any(unicodedata.category(char) == "Cc" for char in value) or "/" in value or "\\" in value:
        raise ValueError(f"{value!r}: a target name may not contain control characters, '/' or '\\'")
    if value.strip() != value or value in (".", ".."):
        raise ValueError(f"{value!r}: a target name may not start or end with blanks, nor be '.' or '..'")
    return value


def env_key(value: str) -> str:
    """The name of an environment (or env file) variable holding a secret URL, not the URL itself."""
    if not _ENV_KEY.fullmatch(value) or len(value) > 255:
        raise ValueError("expected the name of an environment variable (letters, digits, "
                         "'_'), which holds the URL; URLs never go in the config")
    return value


EnvKey = Annotated[str, AfterValidator(env_key)]  # names a variable, never holds a URL


class FleetDiscovery(BaseModel):
    """A registry database whose `query` returns (target name, env key) rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url_env: EnvKey
    query: str

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise ValueError("expected a query returning (name, env_key) rows")
        return value


class FleetTenantSchemas(BaseModel):
    """Schema-per-tenant targets: every schema of one database whose name matches `pattern`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url_env: EnvKey
    pattern: str
    # like: a SQL LIKE pattern (tenant\_%); regex: a PostgreSQL regular expression (^tenant_[0-9]+$)
    match: Literal["like", "regex"] = "like"

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if not value or "\x00" in value or len(value) > 1000:
            raise ValueError("expected a schema name pattern (not empty, no NUL character)")
        return value


class FleetConfig(BaseModel):
    """[tool.migguard.fleet]: the targets one change reaches, and how the rollout is grouped.

    `targets` maps a target name to the environment variable holding its URL (secrets stay out of
    files); `discovery` and `tenant_schemas` find more targets at run time. The `canary` targets
    go first, then the others in waves of `wave_size`, at most `parallel` at a time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, str] = Field(default_factory=dict)
    discovery: FleetDiscovery | None = None
    tenant_schemas: FleetTenantSchemas | None = None
    canary: tuple[str, ...] = ()
    wave_size: int = Field(default=10, ge=1, le=10_000)
    parallel: int = Field(default=4, ge=1, le=256)

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, key in value.items():
            target_name(name)
            try:
                env_key(key)
            except ValueError as error:
                raise ValueError(f"target {name!r}: {error}") from None
        return value

    @field_validator("canary")
    @classmethod
    def _canary(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            target_name(name)
        if len(set(value)) != len(value):
            raise ValueError("a target is named twice")
        return value

    @model_validator(mode="after")
    def _some_targets(self) -> FleetConfig:
        if not self.targets and self.discovery is None and self.tenant_schemas is None:
            raise ValueError("a fleet needs targets, discovery or tenant_schemas")
        if self.discovery is None and self.tenant_schemas is None:
            unknown = [name for name in self.canary if name not in self.targets]
            if unknown:
                raise ValueError(f"canary names unknown target(s): {', '.join(unknown)}")
        return self


class Config(BaseModel):
    """Every setting of SPEC section 2, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    migrations: str = "db/migrations"
    seeds: str = "db/seeds"
    layout: Layout = "auto"
    pg_version: int = Field(default=15, ge=10, le=18)
    tenant_column: str = "tenant_id"
    tenant_setting: str = "app.tenant_id"
    app_roles: tuple[str, ...] = ("app_user",)
    env_file: str = "vault/.env"
    lock_timeout: str = "2s"
    statement_timeout: str = "15min"
    # The longest lock_timeout / statement_timeout a migration may set itself (lint rule
    # ban-unbounded-timeout, and the runner); unset, the configured value above is the ceiling.
    max_lock_timeout: str | None = None
    max_statement_timeout: str | None = None
    lock_retries: int = Field(default=5, ge=0, le=100)
    lockdown_after: int = Field(default=3, ge=1)
    backup_dir: str = ".migguard/backups"
    plan_dir: str = ".migguard/plans"
    audit_log: str = ".migguard/audit.jsonl"
    history_table: str = "migguard.schema_migrations"
    assume_in_transaction: bool = True
    watch_queries: str | None = None
    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    rls: RlsConfig = Field(default_factory=RlsConfig)
    scan: ScanConfig = Field(default_factory=ScanConfig)
    # [tool.migguard.accept]: plan finding id -> why apply may proceed despite it (printed and audited)
    accept: dict[str, Reason] = Field(default_factory=dict)
    # [tool.migguard.fleet]: many targets for one change (None: a single production)
    fleet: FleetConfig | None = None

    # Where the values came from (a file, or None for defaults); not a config key.
    source: str | None = Field(default=None, exclude=True)
    root: str = Field(default=".", exclude=True)

    @field_validator("lock_timeout", "statement_timeout")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)  # reaches production as a setting's value: a number and a unit only
        return value

    @field_validator("history_table")
    @classmethod
    def _history_table(cls, value: str) -> str:
        parse_qualified(value, 2)
        return value

    @field_validator("tenant_setting")
    @classmethod
    def _guc_name(cls, value: str) -> str:
        if not _GUC_NAME.fullmatch(value):
            raise ValueError("expected a custom setting name: identifiers joined by dots, e.g. app.tenant_id")
        return value

    @field_validator("tenant_column")
    @classmethod
    def _column_name(cls, value: str) -> str:
        return _catalog_name(value)

    @field_validator("app_roles")
    @classmethod
    def _role_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for role in value:
            _catalog_name(role)
        return value

    @field_validator("migrations", "seeds", "env_file", "backup_dir", "plan_dir", "audit_log", "watch_queries")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and ("\x00" in value or not value.strip()):
            raise ValueError("expected a path (not empty, no NUL character)")
        return value

    @property
    def history_path(self) -> tuple[str, str]:
        """`history_table` as (schema, table), as the catalog spells them: for sql.Identifier(*…)."""
        schema, table = parse_qualified(self.history_table, 2)
        return schema, table

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, RuleSetting]) -> dict[str, RuleSetting]:
        from migguard.core.finding_ids import finding_kind  # imported when a config names rules

        for rule_id in value:  # any documented finding id: lint rules, database steps, scan-app
            if finding_kind(rule_id) is None:
                raise ValueError(f"unknown rule id {rule_id!r}")
        return value

    @field_validator("accept")
    @classmethod
    def _known_findings(cls, value: dict[str, str]) -> dict[str, str]:
        known = acceptable_finding_ids()
        for finding_id in value:
            if finding_id not in known:
                raise ValueError(f"unknown finding id {finding_id!r} (accept takes the id of a finding of "
                                 "the plan's database steps, as `migguard rules` lists them)")
        return value

    @field_validator("max_lock_timeout", "max_statement_timeout")
    @classmethod
    def _ceiling(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        ceiling = duration_ms(value)
        if not ceiling:
            raise ValueError(f"{value!r} is not a positive duration such as 500ms, 5s, 2min or 1h")
        configured_key = info.field_name.removeprefix("max_")
        configured = duration_ms(str(info.data.get(configured_key, "")))
        if configured is not None and configured > ceiling:
            raise ValueError(f"{value} is below {configured_key} ({info.data[configured_key]}), which apply sets itself")
        return value

    @property
    def lock_timeout_ceiling(self) -> str:
        """The longest lock_timeout a migration may set: max_lock_timeout, else lock_timeout."""
        return self.max_lock_timeout or self.lock_timeout

    @property
    def statement_timeout_ceiling(self) -> str:
        """The longest statement_timeout a migration may set: max_statement_timeout, else statement_timeout."""
        return self.max_statement_timeout or self.statement_timeout


def acceptable_finding_ids() -> frozenset[str]:
    """The ids `[tool.migguard.accept]` and `apply --accept` take: findings of the plan's database
    steps (plan, RLS audit and probe), which apply judges from the plan. Static lint findings are
    re-linted live and suppressed in the file (`-- migguard:ignore`), never accepted here."""
    from migguard.core.finding_ids import reported_by

    return reported_by("database")


_GUC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)+")


def _has_schema(entry: str) -> bool:
    """Whether a (possibly quoted) relation name has a dot outside its double quotes."""
    return "." in re.sub(r'"(?:[^"]|"")*"', "", entry)


def _catalog_name(value: str) -> str:
    """A name as the catalog spells it (a column, a role): 1 to 63 bytes, no control character."""
    if not value or len(value.encode("utf-8")) > 63:
        raise ValueError("expected a name of 1 to 63 bytes")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("a name may not contain control characters")
    return value


_SEARCH_NAMES = ("migguard.toml", "pyproject.toml")
_INTERNAL_FIELDS = ("source", "root")


def find_config_file(start: Path) -> Path | None:
    """The nearest migguard.toml, or pyproject.toml with [tool.migguard], from `start` upward."""
    for directory in (start, *start.parents):
        for name in _SEARCH_NAMES:
            candidate = directory / name
            if candidate.is_file() and (name == "migguard.toml" or _has_tool_table(candidate)):
                return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    import tomllib  # loaded only where a migguard.toml or pyproject.toml is found

    try:
        return "migguard" in tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def load_config(explicit: str | None = None, start: Path | None = None, **overrides: object) -> Config:
    """Read the config file (explicit, or searched upward) and apply CLI overrides on top."""
    start = (start or Path.cwd()).resolve()
    path = Path(explicit) if explicit else find_config_file(start)
    data: dict = {}
    if path is not None:
        import tomllib

        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read config file {path}: {error}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: invalid TOML: {error}") from None
        # pyproject.toml keeps it under [tool.migguard]; migguard.toml may use that table or be flat.
        fallback = {} if path.name == "pyproject.toml" else document
        data = dict(document.get("tool", {}).get("migguard", fallback))
    data.update({k: v for k, v in overrides.items() if v is not None})
    for internal in _INTERNAL_FIELDS:  # fields migguard fills in itself, not config keys
        if internal in data:
            raise ConfigError(f"{path or 'command line'}: unknown configuration key '{internal}'")
    try:
        return Config(**data, source=str(path) if path else None, root=str(path.parent if path else start))
    except ValidationError as error:
        raise ConfigError(_describe(error, path)) from None


def _describe(error: ValidationError, path: Path | None) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    where = str(path) if path else "command line"
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown configuration key '{key}'"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: invalid value for '{key}': {message}"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped, quotes removed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:  # the message names the file, never its content
        raise ConfigError(f"cannot read env file {path}: {getattr(error, 'strerror', None) or 'not valid UTF-8'}") from None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


@functools.cache
def _env_file(path: Path) -> Mapping[str, str]:
    """The env file's values, read once per process: every step of a run (plan, apply, its gates,
    the audit) sees the same connection strings, and the file is opened once, not at each call."""
    return MappingProxyType(read_env_file(path))


def forget_env_files() -> None:
    """Read env files afresh: the next run in this process (the test suite's in-process CLI) sees
    their current values, as a new process would."""
    _env_file.cache_clear()


def secret(name: str, config: Config) -> str | None:
    """A secret (PG_PROD_URL, PG_SHADOW_URL) from the environment, else from the env file (read once)."""
    value = os.environ.get(name) or _env_file((Path(config.root) / config.env_file).absolute()).get(name) or None
    if value:
        from migguard.core.dsn import parse_url  # checks it, and remembers its password for redaction

        parse_url(value, name)
    return value


def production_url(config: Config, explicit: str | None = None) -> str:
    """Production's URL: `explicit` (--prod-url), else PG_PROD_URL; exit 2 when there is none."""
    url = explicit or secret("PG_PROD_URL", config)
    if not url:
        raise InputError("PG_PROD_URL is not set (environment or the env file)")
    return url
