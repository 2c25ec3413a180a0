from migguard.report.markdown import escape, render


def test_snapshot(report, snapshot):
    assert render(report) == snapshot


def test_verdict_line_first_with_counts(report):
    first = render(report).splitlines()[0]
    assert first == "## ❌ migguard lint: gate refused (2 errors, 1 warning, 1 info in 2 files)"
    passing = report.model_copy(update={"ok": True, "findings": (), "summary": {"files": 1, "errors": 0,
                                                                                "warnings": 0, "infos": 0}})
    output = render(passing)
    assert output.splitlines()[0] == "## ✅ migguard lint: gate passes (0 errors, 0 warnings, 0 info in 1 file)"
    assert "No findings." in output and "| Severity |" not in output


def test_table_has_one_row_per_finding_and_pipes_never_split_a_cell(report):
    lines = render(report).splitlines()
    header = lines.index("| Severity | Rule | Location | Message | Hint |")
    rows = lines[header + 2: header + 2 + len(report.findings)]
    assert len(rows) == 4 and lines[header + 1] == "|---|---|---|---|---|"
    for row in rows:
        assert len(_split_cells(row)) == 5, row
    assert rows[1].startswith("| error | `ban-drop-column` | migrations/0001\\_init.sql:3 | ")
    assert "data \\| a, b: c \\<b\\>\\*x\\*\\</b\\> \\`q\\`<br>and breaks" in rows[1]
    assert rows[2].endswith("|  |")  # no hint: an empty cell


def test_summary_then_plan_when_present(report):
    output = render(report)
    assert "### Summary\n\n- files: 2\n- errors: 2\n- warnings: 1\n- infos: 1" in output
    assert "### Plan" not in output
    planned = report.model_copy(update={"summary": report.summary | {"plan": ["add column accounts.note",
                                                                              "create index ix_a"]}})
    output = render(planned)
    assert output.index("### Summary") < output.index("### Plan")
    assert output.endswith("### Plan\n\n- add column accounts.note\n- create index ix\\_a\n")
    assert "- plan:" not in output


def test_escape():
    assert escape("a|b\\c\r\nd") == "a\\|b\\\\c<br>d"


def _split_cells(row: str) -> list[str]:
    """Split a GFM table row on pipes that are not backslash-escaped."""
    cells, current, escaped = [], "", False
    for char in row.strip()[1:-1]:
        if char == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*cells, current]
