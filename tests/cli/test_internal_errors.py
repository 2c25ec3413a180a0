"""A defect anywhere under a command is exit 5 (ExitCode.INTERNAL) and one redacted line on stderr.

Each command's service call is replaced by one that raises a TypeError, as a bug would; main()
must turn it into exactly one line that names it a defect, never a traceback or the exit code of
bad input (2). Run in process: main() is what the console script and `python -m migguard` call.
"""

from __future__ import annotations

import importlib

import pytest

from migguard.cli import main
from migguard.core.exit_codes import ExitCode

SECRET = "s3cr3t-pw"

# (command line, the module and function the command calls to do its work)
COMMANDS = [
    (["lint"], "migguard.lint.engine", "run_lint"),
    (["plan"], "migguard.plan.command", "run_plan"),
    (["apply"], "migguard.apply.command", "run_apply"),
    (["rollback"], "migguard.apply.rollback", "run_rollback"),
    (["baseline"], "migguard.baseline.command", "run_baseline"),
    (["status"], "migguard.drift.status", "run_status"),
    (["diff", "db/migrations", "schema.json"], "migguard.drift.compare", "compare"),
    (["shadow", "start"], "migguard.pg.shadow", "start_persistent"),
    (["shadow", "stop"], "migguard.pg.shadow", "stop_persistent"),
    (["shadow", "status"], "migguard.pg.shadow", "read_state"),
    (["audit", "verify"], "migguard.core.audit", "verify"),
    (["audit", "restart", "--reason", "investigated"], "migguard.apply.audit_guard", "restart"),
    (["rls", "check"], "migguard.rls.command", "run_rls_check"),
    (["query", "--sandbox", "SELECT 1"], "migguard.query.command", "run_query"),
    (["scan-app", "."], "migguard.scan.scanner", "run_scan"),
    (["new", "add_x", "--template", "feature"], "migguard.project.new", "run_new"),
    (["init", "."], "migguard.project.init", "run_init"),
    (["rules"], "migguard.core.finding_ids", "finding_kinds"),
    (["explain", "ban-drop-table"], "migguard.core.finding_ids", "finding_kind"),
]


@pytest.mark.parametrize(("argv", "module", "function"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_a_defect_under_any_command_is_exit_5_and_one_line(argv, module, function, tmp_path, monkeypatch, capsys):
    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\n')
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PG_PROD_URL", f"postgresql://app:{SECRET}@localhost:1/prod")

    def broken(*args, **kwargs):
        raise TypeError(f"boom in {function} (postgresql://app:{SECRET}@localhost:1/prod)\nsecond line")

    monkeypatch.setattr(importlib.import_module(module), function, broken)
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == ExitCode.INTERNAL == 5
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"migguard: internal error: TypeError: boom in {function} ")
    assert "--debug" in lines[0] and "second line" not in captured.err
    assert SECRET not in captured.err + captured.out and "Traceback" not in captured.err


def test_debug_lets_the_defect_through_with_its_traceback(tmp_path, monkeypatch):
    """--debug reaches main() through the run's Session (ctx.obj), not a module global."""
    monkeypatch.chdir(tmp_path)

    def broken(*args, **kwargs):
        raise TypeError("boom")

    monkeypatch.setattr(importlib.import_module("migguard.lint.engine"), "run_lint", broken)
    with pytest.raises(TypeError, match="boom"):
        main(["--debug", "lint"])
    with pytest.raises(SystemExit) as done:  # the next run in the same process starts without --debug
        main(["lint"])
    assert done.value.code == ExitCode.INTERNAL


def test_a_connection_lost_mid_command_is_a_database_failure_not_a_defect(tmp_path, monkeypatch, capsys):
    """psycopg's OperationalError escaping a command (the server stopped under it) is exit 3."""
    import psycopg

    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\n')
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)

    def lost(*args, **kwargs):
        raise psycopg.OperationalError(f"connection to postgresql://app:{SECRET}@db:5432/prod lost\nmore")

    monkeypatch.setattr(importlib.import_module("migguard.drift.status"), "run_status", lost)
    with pytest.raises(SystemExit) as done:
        main(["status"])
    assert done.value.code == ExitCode.DATABASE == 3
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("migguard: error: database connection failed: connection to ")
    assert SECRET not in lines[0] and "internal error" not in lines[0]
