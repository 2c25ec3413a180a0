"""What lint's checks take from the configuration: the settings, and configured paths as lint shows them.

Kept apart from `context` (which imports the SQL parsers) so that a lint answered wholly from the cache
builds its cache keys without importing sqlglot or pglast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LintSettings:
    """The parts of the configuration that change what a check concludes."""

    pg_version: int = 15
    tenant_column: str = "tenant_id"
    tenant_setting: str = "app.tenant_id"
    assume_in_transaction: bool = True
    # The project's write paths (migrations, seeds directories), relative to the working directory
    # as lint paths are. Empty: no project configuration, and the workflow rules stay silent.
    write_paths: tuple[str, ...] = ()
    # The longest lock_timeout / statement_timeout a migration may set (config: max_*, else the configured value).
    max_lock_timeout: str = "2s"
    max_statement_timeout: str = "15min"

    @classmethod
    def from_config(cls, config, pg_version: int | None = None) -> LintSettings:
        """The one way lint, plan and apply's gate build their settings, so that a rule concludes the
        same in all three. `pg_version`: lint's --pg-version, else the configured one. The write
        paths apply where a config file says there is a project (none: the workflow rules are silent).
        `config` is a core.config.Config, not imported: the pure lint layer stays clear of its imports."""
        return cls(
            pg_version=pg_version or config.pg_version,
            tenant_column=config.tenant_column,
            tenant_setting=config.tenant_setting,
            assume_in_transaction=config.assume_in_transaction,
            write_paths=(project_path(config, config.migrations), project_path(config, config.seeds))
            if config.source else (),
            max_lock_timeout=config.lock_timeout_ceiling,
            max_statement_timeout=config.statement_timeout_ceiling,
        )


def project_path(config, path: str) -> str:
    """A configured path, made relative to the config file's directory, shown relative to cwd."""
    absolute = Path(config.root) / path
    try:
        return os.path.relpath(absolute)
    except ValueError:  # another drive (Windows)
        return str(absolute)
