"""A fleet of fresh databases on the session cluster and a project naming them, for the rollout tests."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.apply.livekit import Project, make_project, with_password

_counter = itertools.count()

CREATE_ITEMS = """SET lock_timeout = '2s';
CREATE TABLE items (id bigint PRIMARY KEY, qty integer NOT NULL);
"""


@contextmanager
def fleet_databases(cluster, names: list[str]):
    """One fresh database per target name; name -> URL (with a password trust authentication ignores)."""
    made = {name: f"fleet{next(_counter)}_{name}" for name in names}
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        for database in made.values():
            admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield {name: with_password(cluster.url(database)) for name, database in made.items()}
    finally:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            for database in made.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def fleet_project(root: Path, urls: dict[str, str], shadow_url: str, *, canary: tuple[str, ...] = (),
                  wave_size: int = 2, parallel: int = 2, migrations: dict[str, str] | None = None) -> Project:
    targets = "\n".join(f'{name} = "DB_{name.upper()}"' for name in urls)
    config = (f'[tool.migguard]\nmigrations = "db/migrations"\nlock_retries = 0\n\n[tool.migguard.fleet]\n'
              f'canary = [{", ".join(repr(c) for c in canary)}]\nwave_size = {wave_size}\nparallel = {parallel}\n\n'
              f'[tool.migguard.fleet.targets]\n{targets}\n').replace("'", '"')
    project = make_project(root, config, "", shadow_url, migrations or {"0001_items.sql": CREATE_ITEMS})
    env = {key: value for key, value in project.env.items() if key != "PG_PROD_URL"}
    env.update({f"DB_{name.upper()}": url for name, url in urls.items()})
    return Project(project.root, env)


def history(url: str) -> list[str]:
    """Versions in the target's history (every row: a version applied twice would show twice)."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('migguard.schema_migrations')").fetchone()[0] is None:
            return []
        return [r[0] for r in conn.execute("SELECT version FROM migguard.schema_migrations ORDER BY version")]
