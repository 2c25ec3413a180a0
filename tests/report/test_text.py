from migguard.report.text import render


def test_snapshot(report, snapshot):
    assert render(report) == snapshot


def test_compiler_style_header_sql_line_caret_and_hint(report):
    block = render(report).split("\n\n")[1].splitlines()
    assert block[0].startswith("migrations/0001_init.sql:3:22: error[ban-drop-column] Dropping column")
    assert block[1] == "and breaks clients that still read or write it."  # the message's own newline
    assert block[2:5] == ["   |", " 3 | ALTER TABLE accounts DROP COLUMN legacy_plan;", "   | " + " " * 21 + "^"]
    assert block[-1].startswith("  = hint: Stop using the column")


def test_no_findings_renders_nothing(report):
    assert render(report.model_copy(update={"findings": ()})) == ""
