from migguard.report.github import escape_data, escape_property, render


def test_snapshot(report, snapshot):
    assert render(report) == snapshot


def test_one_command_per_finding_in_order(report):
    lines = render(report).splitlines()
    assert len(lines) == len(report.findings)
    assert [line.split(" ", 1)[0] for line in lines] == ["::warning", "::error", "::notice", "::error"]


def test_properties_and_message(report):
    line = render(report).splitlines()[1]
    assert line.startswith(
        "::error file=migrations/0001_init.sql,line=3,col=22,endLine=3,endColumn=45,title=ban-drop-column::"
    )
    message = line.split("::", 2)[2]
    assert message == (
        "Dropping column accounts.legacy_plan destroys 100%25 of its data | a, b: c <b>*x*</b> `q`%0A"
        "and breaks clients that still read or write it.%0AHint: Stop using the column in the application"
        " and deploy first; drop it later with --allow-destructive."
    )
    assert "\n" not in line and "\r" not in line


def test_columns_only_on_one_line_annotations(report):
    multi_line = render(report).splitlines()[3]
    assert "file=migrations/0002_café menu.sql,line=3,endLine=5,title=syntax-error::" in multi_line
    assert ",col=" not in multi_line and "endColumn" not in multi_line


def test_escaping_follows_the_workflow_command_rules():
    assert escape_data("100% a:b,c\r\nd") == "100%25 a:b,c%0D%0Ad"
    assert escape_property("100% a:b,c\r\nd") == "100%25 a%3Ab%2Cc%0D%0Ad"
    assert escape_data("%0A") == "%250A"  # % first, so an escape is never decoded twice


def test_path_with_separators_is_escaped(report):
    finding = report.findings[0].model_copy(update={"path": "db/a,b:c%.sql", "hint": None})
    line = render(report.model_copy(update={"findings": (finding,)}))
    assert line == ("::warning file=db/a%2Cb%3Ac%25.sql,line=2,col=4,endLine=2,endColumn=4,title=unused-ignore::"
                    "The ignore of ban-truncate silences nothing here.\n")


def test_no_findings_renders_nothing(report):
    assert render(report.model_copy(update={"findings": ()})) == ""
