"""The newcomer's path (issue 11, item 9): `init`, copy the example env file as told, write a migration, `plan`
with no production connected. The copied file sets no PG_SHADOW_URL, so migguard's own scratch server is used,
and the plan says on one line what it compared against. Real processes, real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from migguard.core.config import read_env_file

MIGRATION = "SET lock_timeout = '2s';\nCREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n"


def run(cwd, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("PG_PROD_URL", "PG_SHADOW_URL")}
    return subprocess.run([sys.executable, "-m", "migguard", *args], cwd=cwd, capture_output=True, text=True,
                          env={**base, **env}, timeout=300, check=False)


def test_the_copied_example_env_file_sets_no_shadow_url(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    shutil.copy(tmp_path / "vault" / ".env.example", tmp_path / "vault" / ".env")
    values = read_env_file(tmp_path / "vault" / ".env")
    assert "PG_SHADOW_URL" not in values and "PG_PROD_URL" in values
    text = (tmp_path / "vault" / ".env.example").read_text()
    assert "Set it only when you run a scratch server yourself" in text


@pytest.mark.pg
@pytest.mark.e2e
def test_plan_without_production_says_what_it_compared_against(tmp_path, pg_cluster):
    assert run(tmp_path, "init").returncode == 0
    (tmp_path / "db" / "migrations" / "0001_t.sql").write_text(MIGRATION)
    done = run(tmp_path, "plan", PG_SHADOW_URL=pg_cluster.url())
    assert done.returncode == 0, done.stdout + done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("no PG_PROD_URL")]
    assert said == ["no PG_PROD_URL: planned against an empty database (every migration is pending); set "
                    "PG_PROD_URL to plan against production, or pass --base REF to plan against a git ref"]
    assert "against empty database: 0 applied, 1 pending (0001)" in done.stdout
