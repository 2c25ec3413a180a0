"""The applied history replayed on the shadow, and why it does not replay, as a finding.

`plan`, `status` and `apply` (through plan) replay the applied migrations from an empty database
(SPEC 5 step 2). When one fails there, the history cannot stand for production: that is a finding
that says what to do (exit 1), not a database failure (exit 3 stays for a server that cannot be
reached or a live statement that failed):
- `extension-unavailable`: the migration creates an extension the shadow server has no files for
  (the bundled server ships no contrib), or production has one and its schema could not be
  restored there (`check_extensions`); the hint says how to give the shadow one that has it;
- `history-not-replayable`: any other failure, naming the migration, PostgreSQL's error and the
  fix: when production has the object the history lacks, production predates the history
  (`migguard baseline`); else which object no earlier migration creates.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import psycopg

from migguard.core.errors import GateRefused
from migguard.core.findings import Finding, Severity
from migguard.core.sources import Migration
from migguard.pg.connect import connect
from migguard.pg.shadow import MigrationFailed, MissingObject, ShadowServer, missing_object

HISTORY_NOT_REPLAYABLE = "history-not-replayable"
EXTENSION_UNAVAILABLE = "extension-unavailable"

# whether production has a missing object, by kind (names as the failed statement spelled them)
_PRODUCTION_HAS = {
    "relation": "SELECT to_regclass(%s) IS NOT NULL",
    "type": "SELECT to_regtype(%s) IS NOT NULL",
    "schema": "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)",
    "function": "SELECT EXISTS (SELECT FROM pg_proc WHERE proname = split_part(%s, '(', 1))",
    "column": "SELECT EXISTS (SELECT FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
              "WHERE a.attname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped)",
}


class ShadowRefused(GateRefused):
    """The shadow cannot stand for production (an applied migration does not replay there, or
    production has an extension the shadow lacks); carries the finding that says why."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(f"{finding.rule}: {finding.message}", detail=finding.hint)


def replay_history(shadow: ShadowServer, history: Sequence[Migration], prod_url: str | None) -> str:
    """`shadow.replay(history)`; a migration that fails there raises ShadowRefused."""
    try:
        return shadow.replay(history)
    except MigrationFailed as failure:
        raise ShadowRefused(replay_finding(failure, shadow, prod_url)) from None


def replay_finding(failure: MigrationFailed, shadow: ShadowServer, prod_url: str | None) -> Finding:
    """The finding for an applied migration that failed on the replay."""
    migration, missing = failure.migration, missing_object(failure)
    if missing is not None and missing.kind == "extension":
        return extension_finding(failure, missing.name, shadow, prod_url)
    where = f"{migration.version} ({migration.up.name})"
    message = f"Applied migration {where} fails when the history is replayed on the shadow: {failure.error}."
    if missing is None:
        hint = ("The applied migrations must rebuild production's schema from an empty database. When production "
                "has objects they never created, run `migguard baseline`; else repair the history.")
    elif prod_url and _production_has(prod_url, missing):
        hint = (f"Production has {missing.describe()}, which no migration before {migration.version} creates: "
                "production predates the migrations. Run `migguard baseline` to capture production's schema "
                "as the first migration.")
    else:
        absent = ", and production has none either" if prod_url else ""
        hint = (f"No migration before {migration.version} creates {missing.describe()}{absent}: add the migration "
                "that creates it before this one, or repair the history so it replays from an empty database.")
    return _db_finding(HISTORY_NOT_REPLAYABLE, _display(migration.up), message, hint)


def extension_finding(failure: MigrationFailed, extension: str, shadow: ShadowServer, prod_url: str | None) -> Finding:
    """The finding for a migration that creates an extension the shadow server does not have."""
    migration = failure.migration
    shadow_major = _major(shadow.url) if shadow.url else None
    on = f" (PostgreSQL {shadow_major})" if shadow_major else ""
    message = (f"Migration {migration.version} ({migration.up.name}) needs extension {extension}, which the shadow "
               f"server{on} does not have: {failure.error}.")
    major = (_major(prod_url) if prod_url else None) or shadow_major
    return _db_finding(EXTENSION_UNAVAILABLE, _display(migration.up), message, _extension_hint(extension, major))


def check_extensions(shadow: ShadowServer, prod_url: str) -> None:
    """Before production's schema is restored on the shadow: each extension production has must be
    one the shadow server can create, else ShadowRefused (extension-unavailable) names them."""
    assert shadow.url is not None, "start() the shadow server first"
    with connect(prod_url, autocommit=True) as prod:
        installed = [row[0] for row in prod.execute("SELECT extname FROM pg_extension ORDER BY extname")]
    with connect(shadow.url, autocommit=True) as conn:
        available = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}
        shadow_major = conn.info.server_version // 10000
    missing = [name for name in installed if name not in available]
    if not missing:
        return
    message = (f"Production has extension(s) {', '.join(missing)}, which the shadow server (PostgreSQL "
               f"{shadow_major}) does not have: production's schema cannot be restored there.")
    raise ShadowRefused(_db_finding(EXTENSION_UNAVAILABLE, f"db:{missing[0]}", message,
                                    _extension_hint(", ".join(missing), _major(prod_url))))


def _extension_hint(extension: str, major: int | None) -> str:
    return (f"Give the shadow a PostgreSQL that has {extension}: `migguard shadow start --pg-version {major or 'N'}` "
            "(a local PostgreSQL of production's major with its contrib modules), PG_SHADOW_URL pointing at a "
            f"server that has it, or install postgresql-contrib{f'-{major}' if major else ''} (or the package that "
            f"ships {extension}) for the shadow's PostgreSQL.")


def _production_has(prod_url: str, missing: MissingObject) -> bool:
    query = _PRODUCTION_HAS.get(missing.kind)
    if query is None:
        return False
    params = (missing.name, missing.table) if missing.kind == "column" else (missing.name,)
    with connect(prod_url, autocommit=True) as conn:
        try:
            row = conn.execute(query, params).fetchone()
        except psycopg.Error:  # a name to_regclass cannot parse: not an object production has
            return False
    return bool(row and row[0])


def _major(url: str) -> int | None:
    with connect(url, autocommit=True) as conn:
        return int(conn.info.server_version) // 10000 or None


def _db_finding(rule: str, path: str, message: str, hint: str) -> Finding:
    return Finding(rule=rule, severity=Severity.ERROR, path=path, line=1, column=1, end_line=1, end_column=1,
                   message=message, hint=hint)


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:
        return path.as_posix()
