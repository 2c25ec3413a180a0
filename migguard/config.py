"""Configuration: one pydantic model, read from `[tool.migguard]` or `migguard.toml`.

Defaults live in code. An unknown key, an unknown rule id or a bad value is a ConfigError
naming the key and the file. Secrets never come from here: connection strings are read only
from the environment or the env file (see `secrets_from_env`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from migguard.errors import ConfigError

RuleSetting = Literal["off", "info", "warning", "error"]
Layout = Literal["auto", "plain", "flyway", "updown", "dbmate"]


class RlsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exempt_tables: tuple[str, ...] = ()


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

    # Where the values came from (a file, or None for defaults); not a config key.
    source: str | None = Field(default=None, exclude=True)
    root: str = Field(default=".", exclude=True)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, RuleSetting]) -> dict[str, RuleSetting]:
        from migguard.rules import RULES_BY_ID
        from migguard.scan_rules import by_id as scan_rules  # light: neither the scanner nor psycopg

        # scan-app finding ids are rule ids too; so are the database finding ids (plan, RLS audit
        # and probe), whose registry imports psycopg: read only when an id is not found elsewhere.
        unknown = [rule_id for rule_id in value if rule_id not in RULES_BY_ID and rule_id not in scan_rules]
        if unknown:
            from migguard.db.rules import by_id

            for rule_id in unknown:
                if rule_id not in by_id:
                    raise ValueError(f"unknown rule id {rule_id!r}")
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


def secret(name: str, config: Config) -> str | None:
    """A secret (PG_PROD_URL, PG_SHADOW_URL) from the environment, else from the env file."""
    value = os.environ.get(name) or read_env_file(Path(config.root) / config.env_file).get(name) or None
    if value:
        from migguard.db.connect import parse_url  # checks it, and remembers its password for redaction

        parse_url(value, name)
    return value
