"""core/collector.py: the process entry and main() pause Python's cyclic collector while a command starts up (a
cold one-file lint spent a tenth of its time in it); lint resumes it before its second file, every other command
at once, and main() leaves a collecting process collecting."""

from __future__ import annotations

import gc

import pytest

import migguard.core.config as config_module
from migguard.core import collector
from migguard.lint.engine import LintTarget, RulePolicy, lint_targets
from migguard.lint.settings import LintSettings
from tests.clirun import run_cli


def test_resume_undoes_only_its_own_pause():
    assert gc.isenabled()
    collector.pause()
    assert not gc.isenabled()
    collector.resume()
    collector.resume()  # nothing paused: nothing to do
    assert gc.isenabled()
    gc.disable()  # a caller's own choice stands
    try:
        collector.pause()
        collector.resume()
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(("files", "collecting"), [(1, False), (3, True)])
def test_a_lint_collects_again_from_its_second_file(files, collecting):
    collector.pause()
    try:
        targets = [LintTarget(f"{n}.sql", f"ALTER TABLE t{n} DROP COLUMN note;") for n in range(files)]
        findings = lint_targets(targets, LintSettings(), RulePolicy.build(), jobs=1)
        assert gc.isenabled() is collecting and {f.path for f in findings} == {f"{n}.sql" for n in range(files)}
    finally:
        collector.resume()


@pytest.mark.parametrize(("argv", "collecting"), [(["lint", "--no-cache", "m.sql"], False),
                                                  (["scan-app", "--tables", "accounts", "app.py"], True)])
def test_only_lint_starts_its_work_with_the_collector_paused(tmp_path, monkeypatch, argv, collecting):
    (tmp_path / "migguard.toml").write_text("", encoding="utf-8")
    (tmp_path / "m.sql").write_text("ALTER TABLE accounts DROP COLUMN note;\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("QUERY = 'SELECT 1'\n", encoding="utf-8")
    seen: list[bool] = []
    real = config_module.load_config
    monkeypatch.setattr(config_module, "load_config", lambda *a, **k: (seen.append(gc.isenabled()), real(*a, **k))[1])
    result = run_cli(argv, cwd=tmp_path)
    assert result.exit_code in (0, 1), result.stderr
    assert seen == [collecting] and gc.isenabled()  # and main() left it running


def test_a_one_file_lint_process_never_collects_and_other_commands_do(tmp_path):
    """Through the process entry (`python -m migguard`): the collector stays paused to the end of a one-file lint
    (the final collection at exit walks every object once more) and runs again for any other command."""
    import subprocess
    import sys

    (tmp_path / "migguard.toml").write_text("", encoding="utf-8")
    (tmp_path / "m.sql").write_text("ALTER TABLE accounts DROP COLUMN note;\n", encoding="utf-8")
    code = ("import atexit, gc, sys\natexit.register(lambda: print('collecting', gc.isenabled(), file=sys.stderr))\n"
            "from migguard.__main__ import main\nmain()\n")
    for argv, collecting in ((["lint", "--no-cache", "m.sql"], False), (["explain", "ban-drop-column"], True)):
        done = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.stderr.strip().endswith(f"collecting {collecting}"), done.stderr[-2000:]
