"""Renderers are pure (report/__init__.py): each output depends on the report alone, not on the
files under the findings' paths, the working directory, the environment or the clock, and the
report is left as it was. (Replaces five tests that compared `render(report)` with itself.)"""

import copy
import time
from importlib import import_module

import pytest

from migguard.report import FORMAT_NAMES, renderer


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_output_depends_on_the_report_alone(name, report, tmp_path, monkeypatch):
    render = renderer(name)
    assert render is import_module(f"migguard.report.{name}").render
    original = copy.deepcopy(report)
    expected = render(report)

    # Other text under every path a finding names, another directory, zone, locale and terminal.
    for path in report.sources:
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("SELECT 'not the report';\n" * 9, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for variable, value in {"TZ": "Pacific/Kiritimati", "LANG": "C", "LC_ALL": "C", "COLUMNS": "20",
                            "FORCE_COLOR": "1", "NO_COLOR": "1", "GITHUB_ACTIONS": "true"}.items():
        monkeypatch.setenv(variable, value)
    time.tzset()
    try:
        assert render(report.model_copy(deep=True)) == expected
    finally:
        monkeypatch.undo()
        time.tzset()
    assert report == original  # nothing mutated, sources included
