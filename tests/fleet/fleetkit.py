"""Scaffolding for the fleet tests: several production databases on the session cluster, a
project naming them in [tool.migguard.fleet], and the CLI run in-process."""

from __future__ import annotations

import itertools
import json
import socket

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from migguard.cli.app import main
from migguard.core.sources import checksum
from migguard.pg.history import AppliedMigration, ensure_table, record
from tests.apply.livekit import SENTINEL, with_password

_names = itertools.count()

ACCOUNTS = """SET lock_timeout = '2s';
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
"""
ADD_NOTE = "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN note text;\n"
CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "300ms"
max_lock_timeout = "2s"
pg_version = 15
"""


def recorded(url: str, version: str = "0001", history: str = "migguard.schema_migrations", schema: str | None = None) -> None:
    """Production as if `version` was applied by hand: the migration run, its history row written."""
    with psycopg.connect(url) as conn:
        if schema:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        conn.execute(ACCOUNTS.split("\n", 1)[1])
        ensure_table(conn, history)
        record(conn, history, AppliedMigration(version, "accounts", checksum(ACCOUNTS), None, "tester",
                                                    datetime.now(UTC), 1))


def closed_port_url() -> str:
    """A URL on a local port nothing listens on (bound, then released): a target that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://postgres:{SENTINEL}@127.0.0.1:{port}/gone"


class Databases:
    """Fresh databases on the session cluster, dropped at the end of the test."""

    def __init__(self, cluster):
        self.cluster, self.names = cluster, []

    def create(self, sql: str = "") -> str:
        name = f"fleet{next(_names)}"
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        self.names.append(name)
        url = self.cluster.url(name)
        if sql:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql)
        return url

    def drop_all(self):
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            for name in self.names:
                admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg.sql.Identifier(name)))


@pytest.fixture
def databases(pg_cluster):
    made = Databases(pg_cluster)
    yield made
    made.drop_all()


def project(root, monkeypatch, cluster, fleet: str, urls: dict[str, str], migrations: dict[str, str]):
    """migguard.toml with `fleet` under [tool.migguard.fleet], the migrations, the env keys set
    (URLs with the sentinel password), the shadow on the session cluster; cwd is the project."""
    (root / "db" / "migrations").mkdir(parents=True)
    for name, text in migrations.items():
        (root / "db" / "migrations" / name).write_text(text)
    (root / "migguard.toml").write_text(CONFIG + "\n[tool.migguard.fleet]\n" + fleet)
    monkeypatch.delenv("PG_PROD_URL", raising=False)
    for key, url in urls.items():
        monkeypatch.setenv(key, with_password(url) if url.startswith("postgresql://postgres@") else url)
    monkeypatch.setenv("PG_SHADOW_URL", cluster.url())
    monkeypatch.setenv("MIGGUARD_USER", "tester")
    monkeypatch.chdir(root)
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """`migguard *argv` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    code, out, err = run(capsys, *argv, "--format", "json")
    return code, json.loads(out), err


def no_secret(*texts: str) -> bool:
    return all(SENTINEL not in text for text in texts)


def written_files(root) -> str:
    """Everything migguard wrote under the project's .migguard (plans, audit log), as one text."""
    return "".join(path.read_text(errors="replace") for path in (root / ".migguard").rglob("*") if path.is_file())
