"""`migguard diff FROM TO`: the schema diff of any two sources.

A source is a database URL, a migrations directory (replayed on the shadow), or a schema
snapshot JSON (`schema-before.json` / `schema-after.json` of a plan, or `--save` output).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from migguard.core.config import Config, secret
from migguard.core.errors import InputError
from migguard.core.redact import redact_text
from migguard.core.sources import discover
from migguard.drift.results import Comparison
from migguard.pg.introspect import introspect, introspect_all
from migguard.pg.shadow import ShadowServer
from migguard.schema.diff import diff
from migguard.schema.model import SchemaModel


def is_url(text: str) -> bool:
    return text.startswith(("postgres://", "postgresql://")) or ("=" in text and " " in text)


def load_schema(source: str, config: Config, shadow: ShadowServer | None) -> SchemaModel:
    """The schema a source describes (see the module docstring)."""
    own = config.history_path[0]
    if is_url(source):
        return introspect(source, exclude_schemas=(own,))
    path = Path(source)
    if path.is_dir():
        if shadow is None:
            raise InputError(f"{source}: a migrations directory needs the shadow server")
        database = shadow.replay(discover(path, config.layout))
        try:
            return introspect(shadow.database_url(database)).without_schemas(own)
        finally:
            shadow.drop_database(database)
    if path.is_file():
        try:
            return SchemaModel.from_json(path.read_text(encoding="utf-8"))
        except (ValidationError, ValueError, UnicodeDecodeError):
            raise InputError(f"{source}: not a migguard schema snapshot (JSON)") from None
    raise InputError(f"{redact_text(source)}: not a database URL, a migrations directory or a schema JSON file")


def compare(source: str, target: str, config: Config, online: bool = False) -> Comparison:
    """Changes that turn `source`'s schema into `target`'s (`online`: in online-safe forms)."""
    needs_shadow = any(Path(s).is_dir() for s in (source, target) if not is_url(s))
    shadow = ShadowServer(secret("PG_SHADOW_URL", config), Path(config.root) / ".migguard") if needs_shadow else None
    try:
        if shadow:
            shadow.start()
        if is_url(source) and is_url(target):  # two servers: read both at once
            before, after = introspect_all((source, target), exclude_schemas=(config.history_path[0],))
        else:
            before = load_schema(source, config, shadow)
            after = load_schema(target, config, shadow)
    finally:
        if shadow:
            shadow.close()
    return Comparison(redact_text(source), redact_text(target), diff(before, after, online=online))
