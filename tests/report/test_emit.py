"""cli.common.emit: where a rendered report goes (stdout, --output, the GitHub job summary)."""

import io
import sys

from migguard.cli.common import emit
from migguard.report import markdown


def test_stdout_that_cannot_encode_the_report_gets_utf8(report, monkeypatch):
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
    emit(report, "markdown", None)
    assert raw.getvalue().decode("utf-8") == markdown.render(report)


def test_output_file_and_github_job_summary(report, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    emit(report, "github", tmp_path / "out" / "report.txt")
    assert capsys.readouterr().out == ""
    assert (tmp_path / "out" / "report.txt").read_text(encoding="utf-8").startswith("::warning file=")
    assert summary.read_text(encoding="utf-8") == markdown.render(report)


def test_job_summary_only_for_the_github_format(report, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    emit(report, "sarif", None)
    assert capsys.readouterr().out.startswith("{")
    assert not summary.exists()
