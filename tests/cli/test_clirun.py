"""tests/clirun.py runs the command line in process for most of the suite; these tests hold it to
what a process gives: the same exit code and bytes on both streams as `python -m migguard`, and
nothing carried from one run to the next or left behind in the test process."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from migguard.core.redact import redact_text, remember_secret
from tests.clirun import run_cli

DROP = "ALTER TABLE accounts DROP COLUMN legacy;\n"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "migguard.toml").write_text("[tool.migguard]\n")
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "db" / "migrations" / "0001_drop.sql").write_text(DROP)
    return tmp_path


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PG_", "GITHUB_", "GIT_"))}


@pytest.mark.parametrize("argv", [
    ["lint", "--select", "ban-drop-column", "--no-cache"],
    ["lint", "--format", "json", "--select", "ban-drop-column", "--no-cache", "-"],
    ["--help"],
    ["lnt"],
    ["explain", "ban-everything"],
], ids=["findings", "stdin-json", "help", "typo", "unknown-rule"])
def test_in_process_gives_what_a_process_gives(project, argv):
    env = _environment()
    process = subprocess.run([sys.executable, "-m", "migguard", *argv], cwd=project, env=env, input=DROP.encode(),
                             capture_output=True, timeout=120, check=False)
    in_process = run_cli(argv, cwd=project, env=env, stdin=DROP)
    assert (in_process.exit_code, in_process.stdout_bytes, in_process.stderr_bytes) == \
        (process.returncode, process.stdout, process.stderr)


def test_a_run_forgets_the_secrets_and_env_file_of_the_one_before(project):
    remember_secret("zebra-4242")  # as if an earlier run had read it from a connection string
    assert "zebra-4242.sql: no such file" in run_cli(["lint", "zebra-4242.sql"], cwd=project).stderr
    assert redact_text("zebra-4242") == "zebra-4242"  # and the run left none behind for the next test

    (project / "vault").mkdir()
    env = _environment()
    for host in ("db-one.invalid", "db-two.invalid"):  # the env file is read afresh by each run
        (project / "vault" / ".env").write_text(f"PG_PROD_URL=postgresql://u:pw-9876@{host}/prod\n")
        result = run_cli(["status", "--no-drift"], cwd=project, env=env)
        assert result.exit_code == 3 and host in result.stderr and "pw-9876" not in result.stderr + result.stdout


def test_the_test_process_is_left_as_it_was(project):
    before = (os.getcwd(), dict(os.environ), sys.stdin, sys.stdout, sys.stderr, list(sys.argv))
    result = run_cli(["--no-color", "lint", "--no-cache"], cwd=project, env={**_environment(), "EXTRA": "1"})
    assert result.exit_code == 1  # the drop column in db/migrations
    assert (os.getcwd(), dict(os.environ), sys.stdin, sys.stdout, sys.stderr, list(sys.argv)) == before
    assert "NO_COLOR" not in os.environ or "NO_COLOR" in before[1]


def test_exit_statuses_and_escaping_exceptions_read_as_the_interpreter_gives_them(project, monkeypatch):
    def broken(*args, **kwargs):
        warnings.warn("a warning a process would print", UserWarning, stacklevel=1)
        raise TypeError("boom")

    monkeypatch.setattr("migguard.core.finding_ids.finding_kinds", broken)
    debug = run_cli(["--debug", "rules"], cwd=project)  # --debug lets the defect escape main()
    assert debug.exit_code == 1
    assert "UserWarning: a warning a process would print" in debug.stderr
    assert "Traceback" in debug.stderr and debug.stderr.rstrip().endswith("TypeError: boom")
    plain = run_cli(["rules"], cwd=project)
    assert plain.exit_code == 5 and "Traceback" not in plain.stderr
