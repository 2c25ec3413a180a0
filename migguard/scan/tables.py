"""Which tables `migguard scan-app` monitors, and where it learnt them.

In order, the first source that names any: the command line (`--tables`, `--schema`), the
configuration (`[tool.migguard.scan] tables`), the migrations (the tables they create with, or
give, the tenant column), and production's catalog when PG_PROD_URL is set (the tables and views
that have the tenant column, in the application's schemas as `pg.catalog` defines them, not
migguard's own history schema; read in one read-only snapshot). A project adopted on a database
older than its migrations has no tenant table in its migrations, so the configuration or
production names them. The report says which source was used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from migguard.core.config import Config, secret
from migguard.core.errors import InputError
from migguard.core.redact import redact_text
from migguard.pg.catalog import SCAN_TENANT_RELATIONS_SQL, CatalogReader
from migguard.pg.connect import connect, read_only_snapshot


@dataclass(frozen=True)
class MonitoredTables:
    tables: frozenset[str]
    source: str  # options | config | migrations | production
    detail: str  # for the report: "--tables", "[tool.migguard.scan] tables", "db/migrations", the redacted URL

    def describe(self) -> str:
        """The report's line on where the tables came from."""
        return f"tenant tables from {self.source} ({self.detail}): {len(self.tables)}"


def monitored_tables(tables: tuple[str, ...], schema: str | None, config: Config) -> MonitoredTables:
    """The tables to monitor, from the first source that names any; InputError (exit 2) when none does."""
    column = config.tenant_column
    named = {t.strip() for raw in tables for t in raw.split(",") if t.strip()}
    if schema or tables:
        found = set(named)
        if schema:
            found |= tables_from_schema(Path(schema), column)
        if not found:
            raise InputError(f"no monitored tables: the schema has no table with {column}")
        detail = " and ".join(what for what, given in (("--tables", tables), (f"--schema {schema}", schema)) if given)
        return MonitoredTables(frozenset(found), "options", detail)
    if config.scan.tables:
        return MonitoredTables(frozenset(config.scan.tables), "config", "[tool.migguard.scan] tables")
    directory = Path(config.root) / config.migrations
    shown = _display(directory)
    if directory.is_dir():
        found = tables_from_migrations(directory, column, config.layout)
        if found:
            return MonitoredTables(frozenset(found), "migrations", shown)
        why = f"no migration in {shown} creates a table with {column}"
    else:
        why = f"{shown} does not exist"
    url = secret("PG_PROD_URL", config)
    if url:
        found = tables_from_production(url, column, config.history_path[0])
        if found:
            return MonitoredTables(frozenset(found), "production", redact_text(url))
        why += f", and production has no table with {column}"
    else:
        why += " (and PG_PROD_URL is not set)"
    raise InputError(f"no monitored tables: {why}; pass --tables a,b or --schema FILE, or list them in "
                     f"[tool.migguard.scan] tables")


def tables_from_production(url: str, column: str, history_schema: str) -> set[str]:
    """The application's relations with the tenant column in production's catalog (not migguard's history
    schema), read in one read-only snapshot."""
    with connect(url, connect_timeout=10, statement_timeout="30s") as conn, read_only_snapshot(conn):
        reader = CatalogReader(conn, exclude_schemas=[history_schema])
        return {row[0] for row in reader.tuples(SCAN_TENANT_RELATIONS_SQL, column=column)}


def tables_from_schema(path: Path, column: str) -> set[str]:
    """Tables with the tenant column in a SchemaModel snapshot JSON (e.g. a plan's schema-after.json)."""
    from pydantic import ValidationError

    from migguard.schema.model import SchemaModel

    try:
        model = SchemaModel.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such schema file") from None
    except (OSError, UnicodeDecodeError, ValidationError, ValueError):
        raise InputError(f"{path}: not a migguard schema snapshot (JSON)") from None
    return {table.name for table in model.tables.values() if column in table.columns}


def tables_from_migrations(directory: Path, column: str, layout: str = "auto") -> set[str]:
    """Tables the migrations create with (or later give) the tenant column, read statically."""
    from migguard.core.sources import discover
    from migguard.lint.context import LintContext, LintSettings
    from migguard.sql.parse import parse_file

    settings = LintSettings(tenant_column=column)
    tables: set[str] = set()
    for migration in discover(directory, layout):
        context = LintContext(str(migration.up), parse_file(migration.up_sql()).statements, settings)
        tables.update(context.tenant_tables)
    return tables


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()
