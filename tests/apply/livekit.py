"""Scaffolding shared by the live-path tests (tests/apply/test_apply.py, test_live_*.py).

A `Project` is a throwaway directory with db/migrations and a migguard.toml, plus the environment
`migguard` runs with: PG_PROD_URL (usually carrying a sentinel password that must never be written
anywhere), PG_SHADOW_URL and MIGGUARD_USER. `migguard()` runs the CLI in it, in this process
(tests/clirun.py: main() with the project's cwd, environment and streams); `start()` runs it as a
real process, for the tests that interrupt or kill it. The other functions read what production
and the project hold afterwards. Plain functions only:
each test file keeps its own `project` fixture (its config and first migration differ).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from migguard.core.audit import verify
from tests.clirun import Result, run_cli

SENTINEL = "S3ntinel-Pa55word"

# A tenant table isolated as the RLS audit wants it, granted to `app_user` (see ensure_app_user).
NOTES = """SET lock_timeout = '2s';
CREATE TABLE notes (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    body text,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notes
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO app_user;
"""


@dataclass(frozen=True)
class Project:
    """A project directory and the variables added to os.environ for every run in it."""

    root: Path
    env: dict[str, str]

    @property
    def migrations(self) -> Path:
        return self.root / "db" / "migrations"


def with_password(url: str, sentinel: str = SENTINEL) -> str:
    """The session cluster's URL with a password trust authentication ignores: a secret to scan for."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{sentinel}@")


def make_project(root: Path, config: str, prod_url: str, shadow_url: str,
                 migrations: dict[str, str] | None = None) -> Project:
    """db/migrations (holding `migrations`, file name → text) and migguard.toml under `root`."""
    (root / "db" / "migrations").mkdir(parents=True)
    (root / "migguard.toml").write_text(config)
    for name, text in (migrations or {}).items():
        (root / "db" / "migrations" / name).write_text(text)
    return Project(root, {"PG_PROD_URL": prod_url, "PG_SHADOW_URL": shadow_url, "MIGGUARD_USER": "tester"})


def ensure_app_user(cluster_url: str) -> None:
    """The application role NOTES grants to; roles are cluster-wide, so it may exist already."""
    with psycopg.connect(cluster_url, autocommit=True) as admin:
        admin.execute("DO $$ BEGIN CREATE ROLE app_user NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")


def _argv(args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "migguard", *args]


def migguard(project: Project, *args: str, env: dict | None = None) -> Result:
    """Run `migguard *args` in the project, in this process (returncode, stdout, stderr as a process gives)."""
    return run_cli(args, cwd=project.root, env={**os.environ, **project.env, **(env or {})})


def start(project: Project, *args: str) -> subprocess.Popen:
    """`migguard *args` started in the background, its output piped, for a test to interrupt."""
    return subprocess.Popen(_argv(args), cwd=project.root, env={**os.environ, **project.env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def write(project: Project, name: str, text: str) -> None:
    (project.migrations / name).write_text(text)


def query(url: str, text: str, params=None) -> list[tuple]:
    """Rows of one statement run in autocommit ([] when it returns none)."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(text, params)
        return cursor.fetchall() if cursor.description else []


def scalar(url: str, text: str):
    with psycopg.connect(url) as conn:
        return conn.execute(text).fetchone()[0]


def applied_versions(url: str) -> list[str]:
    """Versions in production's default history table, in version order; [] before it exists."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('migguard.schema_migrations')").fetchone()[0] is None:
            return []
        return [r[0] for r in conn.execute("SELECT version FROM migguard.schema_migrations ORDER BY version")]


def columns(url: str, table: str = "accounts") -> set[str]:
    """The live columns of `table` (a regclass text, e.g. "accounts")."""
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                                           "AND attnum > 0 AND NOT attisdropped", (table,))}


def audit_path(project: Project) -> Path:
    return project.root / ".migguard" / "audit.jsonl"


def audit_entries(project: Project, *, verified: bool = False) -> list[dict]:
    """The audit log's entries; with `verified`, first assert its hash chain holds."""
    path = audit_path(project)
    if verified:
        assert verify(path).ok
    return [json.loads(line) for line in path.read_text().splitlines()]


def newest_plan(project: Project) -> Path:
    return max((project.root / ".migguard" / "plans").iterdir(), key=lambda p: p.stat().st_mtime_ns)


def saved_plan(project: Project, *args: str) -> Path:
    """Run `migguard plan *args` (it must succeed) and return the plan directory it saved."""
    done = migguard(project, "plan", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return newest_plan(project)


def all_output(project: Project, *results: Result | subprocess.CompletedProcess,
               skip_suffixes: tuple[str, ...] = ()) -> str:
    """Every byte migguard printed or wrote: stdout, stderr, and every file's name and content under
    the project (plans, backups, rollback scripts, audit), except files ending in `skip_suffixes`."""
    texts = [r.stdout + r.stderr for r in results]
    for path in project.root.rglob("*"):
        texts.append(str(path))
        if path.is_file() and path.suffix not in skip_suffixes:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def assert_clean(project: Project, *results: Result | subprocess.CompletedProcess, sentinel: str = SENTINEL) -> None:
    """The sentinel password appears in no output, file name or file (pg_dump archives aside)."""
    assert sentinel not in all_output(project, *results, skip_suffixes=(".dump",))
