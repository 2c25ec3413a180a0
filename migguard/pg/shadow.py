"""The shadow server: scratch databases where migrations are replayed and proven.

The server is, in order: `PG_SHADOW_URL` (a role that may create databases), the cluster kept
by `migguard shadow start`, or an ephemeral cluster started for this command and removed after,
on production's PostgreSQL major when production is known and that major is available
(`migguard.pg.cluster.choose_for`); a shadow on another major than production's is reported
(`ShadowServer.mismatch`, one warning line).
Replays are cached as template databases keyed by the chain of migration checksums, so an
unchanged prefix of the history is copied, not replayed again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg import sql

from migguard.core.errors import DatabaseError, InputError
from migguard.core.redact import redact_text
from migguard.core.sources import Migration
from migguard.pg.cluster import (Binaries, Cluster, ContainerServer, MajorMismatch, ShadowChoice, available_binaries,
                                 bundled_binaries, choose_binaries, choose_for, local_binaries)
from migguard.pg import scope
from migguard.pg.connect import connect, describe
from migguard.sql.parse import parse_file
from migguard.sql.transactions import transaction_text, whole_file_wrapper

TEMPLATE_PREFIX = "migguard_tpl_"
STATE_FILE = "shadow.json"


def with_database(url: str, database: str) -> str:
    """The same server's connection string (a URL or key=value pairs), pointing at another database."""
    if not url.startswith(("postgresql://", "postgres://")):
        return make_conninfo(url, dbname=database)
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(database, safe=""), parts.query, parts.fragment))


def chain_keys(migrations: Sequence[Migration]) -> list[str]:
    """Key of each prefix of the history: sha256 over the previous key and this migration's checksum
    (and, for a tenant's run, its schema: the history replayed into one schema is not another's)."""
    schema = scope.current()
    keys, previous = [], "" if schema is None else f"schema:{schema}"
    for migration in migrations:
        previous = hashlib.sha256(f"{previous}:{migration.version}:{migration.checksum()}".encode()).hexdigest()
        keys.append(previous)
    return keys


class MigrationFailed(DatabaseError):
    """A migration failed on the shadow; carries which one, PostgreSQL's message and, when the
    error came from the server, its SQLSTATE and primary message (what `missing_object` reads)."""

    def __init__(self, migration: Migration, message: str, sqlstate: str | None = None,
                 primary: str | None = None) -> None:
        self.migration = migration
        self.error = message
        self.sqlstate = sqlstate
        self.primary = primary or message
        super().__init__(f"migration {migration.version} ({migration.up.name}) failed: {message}")


@dataclass(frozen=True)
class MissingObject:
    """What a failed statement needed and did not find: kind is relation, column, type, schema,
    function or extension (an extension the server has no files for); `table` is a column's relation."""

    kind: str
    name: str
    table: str | None = None

    def describe(self) -> str:
        return f"column {self.name} of {self.table}" if self.kind == "column" else f"{self.kind} {self.name}"


# SQLSTATE -> PostgreSQL's primary message for a missing object (the names are the statement's own)
_MISSING = {
    "42P01": ("relation", re.compile(r'relation "(.+)" does not exist')),
    "42703": ("column", re.compile(r'column "(.+)" of relation "(.+)" does not exist')),
    "42704": ("type", re.compile(r'type "(.+)" does not exist')),
    "3F000": ("schema", re.compile(r'schema "(.+)" does not exist')),
    "42883": ("function", re.compile(r"function (.+) does not exist")),
}
# CREATE EXTENSION without the extension's files: 0A000 since PostgreSQL 16, 58P01 before
_NO_EXTENSION = (re.compile(r'extension "(.+)" is not available'),
                 re.compile(r'could not open extension control file ".*/([^/"]+)\.control"'))


def missing_object(failure: MigrationFailed) -> MissingObject | None:
    """The object whose absence made `failure`, when PostgreSQL's error names one."""
    if failure.sqlstate in ("0A000", "58P01"):
        for pattern in _NO_EXTENSION:
            match = pattern.search(failure.primary)
            if match:
                return MissingObject("extension", match.group(1))
        return None
    kind, pattern = _MISSING.get(failure.sqlstate or "", (None, None))
    match = pattern.fullmatch(failure.primary) if pattern else None
    if kind is None or match is None:
        return None
    return MissingObject(kind, match.group(1), match.group(2) if kind == "column" else None)


def apply_migration(conn: psycopg.Connection, migration: Migration,
                    on_statement: Callable[[psycopg.Connection, int, str], None] | None = None,
                    skip: frozenset[int] = frozenset(), observe_each: bool = True) -> None:
    """Run one migration: one transaction, or statement by statement when it has CONCURRENTLY
    (SPEC). Statements are cut, and CONCURRENTLY found, by PostgreSQL's grammar (pglast), only.

    `on_statement(conn, index, text)` is called after each statement when given (the lock trace
    uses it); then statements run one by one even inside the transaction, unless `observe_each` is
    False (the caller has nothing to look at between them): then the transaction's body runs in one
    round trip and `on_statement` is called for each of its statements after it. `skip` holds the 1-based
    numbers of statements that already ran (a part-way migration resumed: `migguard.pg.partway`);
    such a migration runs statement by statement, as the runner resumes it. A file wrapped whole in
    a plain `BEGIN; … COMMIT;` runs its body in this transaction, as the live runner runs it; the
    body's statements keep their numbers in the file."""
    text = migration.up_sql()
    parsed = parse_file(text).statements
    statements = [s.text for s in parsed]
    try:
        if skip or any(s.runs_concurrently for s in parsed):
            conn.autocommit = True
            for index, statement in enumerate(statements):
                if index + 1 in skip:
                    continue
                conn.execute(statement)
                if on_statement:
                    on_statement(conn, index, statement)
            return
        wrapper = whole_file_wrapper(parsed)
        conn.autocommit = False
        with conn.transaction():
            body_statements = parsed if wrapper is None else wrapper.body
            if on_statement is None or not observe_each:
                body = transaction_text(text, parsed)
                if body:
                    conn.execute(body)
                for statement in body_statements if on_statement else ():
                    on_statement(conn, statement.index, statement.text)
            else:
                for statement in body_statements:
                    conn.execute(statement.text)
                    on_statement(conn, statement.index, statement.text)
    except psycopg.Error as error:
        raise MigrationFailed(migration, describe(error), error.sqlstate, error.diag.message_primary) from None
    finally:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            conn.autocommit = True


class ShadowServer:
    """Where scratch databases are created; call `close()` (or use `with`) to release it.

    Given production's URL, the shadow runs on production's PostgreSQL major when it can (SPEC
    section 5, step 2: `choose_for`); when it cannot, or PG_SHADOW_URL / the kept shadow runs
    another major, `mismatch` says so and `warn` gets one line (stderr by default)."""

    def __init__(self, url: str | None = None, state_dir: Path | None = None,
                 binaries: Binaries | None = None, production: str | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self._cluster: Cluster | None = None
        self._container: ContainerServer | None = None
        kept = None if url else running_shadow_url(state_dir)
        self.url = url or kept
        self.kept = kept is not None  # `migguard shadow start`'s cluster
        self.binaries = binaries
        self.ephemeral = self.url is None
        self.production = production  # refused as the shadow's own database (see start)
        self.mismatch: MajorMismatch | None = None
        self._warn = warn or warn_on_stderr

    def __enter__(self) -> ShadowServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> ShadowServer:
        """The given server, else an ephemeral cluster (or container) on production's major."""
        production_major = server_major(self.production) if self.production is not None else None
        if self.url is not None:
            if self.production is not None:
                refuse_production_on_shadow(self.production, self.url)
                shadow_major = server_major(self.url)
                if shadow_major != production_major:
                    self._mismatch(MajorMismatch(production_major, shadow_major, "kept" if self.kept else "url"))
            return self
        if self.binaries is not None:
            choice = ShadowChoice(self.binaries)
        else:
            choice = choose_for(production_major, available_binaries())
        if choice.mismatch:
            self._mismatch(choice.mismatch)
        if choice.binaries is None:
            self._container = ContainerServer(choice.container_major)
            self.url = self._container.start()
            return self
        self._cluster = Cluster(choice.binaries).start()
        self.url = self._cluster.url()
        return self

    def _mismatch(self, mismatch: MajorMismatch) -> None:
        self.mismatch = mismatch
        self._warn(mismatch.line())

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None
        if self._container is not None:
            self._container.stop()
            self._container = None

    @property
    def cluster(self) -> Cluster | None:
        return self._cluster

    def database_url(self, name: str) -> str:
        assert self.url is not None, "start() the shadow server first"
        return with_database(self.url, name)

    def _admin(self) -> psycopg.Connection:
        assert self.url is not None, "start() the shadow server first"
        return connect(self.url, autocommit=True)

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """A new, empty (or template-copied) database; returns its name."""
        name = name or f"migguard_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._admin() as admin:
            try:
                admin.execute(statement)
            except psycopg.Error as error:
                raise DatabaseError(f"cannot create shadow database {name}: {describe(error)}") from None
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def databases(self, prefix: str) -> set[str]:
        with self._admin() as admin:
            rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)).fetchall()
        return {row[0] for row in rows}

    def clone_schema(self, source_url: str, database: str) -> None:
        """pg_dump --schema-only of `source_url`, restored into `database` here; the roles it names
        are created (NOLOGIN) first so ownership, grants and policies restore as they are."""
        from migguard.pg.tools import pg_dump_schema

        from migguard.core.identifiers import name_pattern

        # A tenant's run: the other tenants' schemas are not its concern (pg/scope.py).
        ddl = pg_dump_schema(source_url, [arg for other in scope.siblings()
                                          for arg in ("--exclude-schema", name_pattern(other))])
        with connect(source_url) as source:
            roles = [r[0] for r in source.execute(
                "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND NOT rolsuper").fetchall()]
        with connect(self.database_url(database), autocommit=True) as conn:
            for role in roles:
                conn.execute(sql.SQL("DO $$ BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
                                     "END $$").format(sql.Identifier(role)))
            try:
                with conn.transaction():
                    conn.execute(ddl)
            except psycopg.Error as error:
                raise DatabaseError(f"restoring the schema on the shadow failed: {describe(error)}") from None

    def replay(self, migrations: Sequence[Migration], use_templates: bool = True) -> str:
        """A fresh database with `migrations` applied in order; returns its name.

        The longest already-replayed prefix is copied from its template database; the result is
        saved as a template for next time."""
        keys = chain_keys(migrations)
        templates = self.databases(TEMPLATE_PREFIX) if use_templates else set()
        start, template = 0, None
        for index in range(len(keys) - 1, -1, -1):
            candidate = TEMPLATE_PREFIX + keys[index][:40]
            if candidate in templates:
                start, template = index + 1, candidate
                break
        name = self.create_database(template=template)
        try:
            schema = scope.current()
            if schema is not None and template is None:  # the tenant's schema, empty, as the history starts from
                with connect(self.database_url(name), autocommit=True) as conn:
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            if start < len(migrations):
                with connect(self.database_url(name), autocommit=True) as conn:
                    for migration in migrations[start:]:
                        apply_migration(conn, migration)
                if use_templates and migrations:
                    self._save_template(name, TEMPLATE_PREFIX + keys[-1][:40])
        except BaseException:
            self.drop_database(name)
            raise
        return name

    def _save_template(self, database: str, template: str) -> None:
        try:
            self.create_database(template, template=database)
        except DatabaseError:
            pass  # another run saved it first, or the source had a connection open: only a cache


def server_major(url: str) -> int:
    """The PostgreSQL major version `url` runs (`server_version_num` 150004 → 15)."""
    with connect(url, autocommit=True) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def warn_on_stderr(message: str) -> None:
    """A warning as one redacted line on stderr (the default of ShadowServer's `warn`)."""
    print("migguard: warning: " + redact_text(message).replace("\n", " "), file=sys.stderr)


def server_identity(url: str) -> tuple[str, str]:
    """(server, database) of `url`: the running server is told apart by its start time and port,
    which any role may read (pg_control_system()'s identifier is shared by a server's copies)."""
    with connect(url, autocommit=True) as conn:
        server, database = conn.execute(
            "SELECT pg_postmaster_start_time()::text || ' port ' || current_setting('port'), current_database()"
        ).fetchone()
    return server, database


def refuse_production_on_shadow(production: str, shadow: str) -> None:
    """Production must not be the shadow's own database or one of its scratch databases: the
    shadow is where migguard creates, replays and drops databases."""
    prod_server, prod_db = server_identity(production)
    shadow_server, shadow_db = server_identity(shadow)
    if prod_server == shadow_server and (prod_db == shadow_db or prod_db.startswith("migguard_")):
        raise InputError(f"PG_PROD_URL points at migguard's shadow (same server, database {prod_db}): the shadow "
                         "is scratch space where migguard creates and drops databases; point PG_PROD_URL at "
                         "production, or PG_SHADOW_URL at another server or database")


def running_shadow_url(state_dir: Path | None) -> str | None:
    """URL of the cluster `migguard shadow start` keeps, when it is still running."""
    if state_dir is None:
        return None
    state = read_state(state_dir)
    if not state:
        return None
    try:
        with psycopg.connect(state["url"], connect_timeout=2):
            return state["url"]
    except psycopg.Error:
        return None


def read_state(state_dir: Path) -> dict | None:
    try:
        return json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def start_persistent(state_dir: Path, major: int | None = None, production: str | None = None,
                     warn: Callable[[str], None] = warn_on_stderr) -> dict:
    """`migguard shadow start`: a cluster that outlives the command; its state in `state_dir`.

    `major` wins; else production's major when `production` is given (with a warning when no
    server of it is installed); else the default server. No container: it would not outlive us."""
    existing = read_state(state_dir)
    if existing and running_shadow_url(state_dir):
        return existing
    if major is not None or production is None:
        binaries = choose_binaries(major)
    else:
        choice = choose_for(server_major(production), available_binaries(), docker_answers=lambda: False)
        if choice.mismatch:
            warn(choice.mismatch.line())
        binaries = choice.binaries
    # The data lives in the system temp directory, keyed by project: a project under a private
    # home would otherwise have to open its parents to the unprivileged server user.
    key = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    cluster = Cluster(binaries, Path(tempfile.gettempdir()) / f"migguard-shadow-{key}", keep=True)
    if _data_major(cluster.data) not in (None, binaries.major):
        shutil.rmtree(cluster.directory, ignore_errors=True)  # a stopped shadow of another major: scratch
    cluster.directory.mkdir(parents=True, exist_ok=True)
    cluster.start()
    state = {"url": cluster.url(), "directory": str(cluster.directory), "bin_dir": str(binaries.bin_dir),
             "major": binaries.major, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")
    return state


def _data_major(data: Path) -> int | None:
    try:
        return int((data / "PG_VERSION").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def stop_persistent(state_dir: Path) -> bool:
    """`migguard shadow stop`: stop and delete the kept cluster; False when none was running."""
    state = read_state(state_dir)
    if not state:
        return False
    candidates = [b for b in ([bundled_binaries()] + local_binaries()) if b and str(b.bin_dir) == state["bin_dir"]]
    if candidates:
        Cluster(candidates[0], Path(state["directory"])).stop(remove=True)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return True
