import json

from migguard.report.json import render

SPEC_FINDING_KEYS = {"rule", "severity", "path", "line", "column", "end_line", "end_column", "statement",
                     "message", "hint"}


def test_snapshot(report, snapshot):
    assert render(report) == snapshot


def test_has_exactly_the_spec_keys(report):
    document = json.loads(render(report))
    assert set(document) == {"version", "ok", "command", "findings", "summary"}
    assert document["version"] == 1 and document["ok"] is False and document["command"] == "lint"
    assert all(set(finding) == SPEC_FINDING_KEYS for finding in document["findings"])
    assert document["summary"] == {"files": 2, "errors": 2, "warnings": 1, "infos": 1}


def test_lines_and_columns_are_one_based_as_in_the_findings(report):
    findings = json.loads(render(report))["findings"]
    assert [(f["path"], f["line"], f["column"]) for f in findings] == [
        (f.path, f.line, f.column) for f in report.findings
    ]
    assert findings[1] | {"message": None} == {
        "rule": "ban-drop-column", "severity": "error", "path": "migrations/0001_init.sql",
        "line": 3, "column": 22, "end_line": 3, "end_column": 45, "statement": 1, "message": None,
        "hint": report.findings[1].hint,
    }


def test_sources_are_not_serialised_and_text_round_trips(report):
    output = render(report)
    assert "CREATE TABLE" not in output
    assert "café menu" in output  # UTF-8, not \u escapes
    assert json.loads(output)["findings"][1]["message"] == report.findings[1].message


def test_plan_key_passes_through(report):
    summary = report.summary | {"plan": ["add column accounts.note"]}
    assert json.loads(render(report.model_copy(update={"summary": summary})))["summary"]["plan"] == [
        "add column accounts.note"
    ]


def test_text_is_the_standard_indented_encoding(report):
    """The fast splice writes exactly what json.dumps(indent=2) writes (escapes, None, unicode, nesting)."""
    odd = report.findings[0].model_copy(update={"message": 'quote " back\\slash\nnew line\ttab \u2028 café',
                                                "hint": None, "statement": None})
    # A NUL, or `},` + NUL + `{`, in a message must stay an escaped character of that message (a splice
    # that used NUL separators would break on it).
    nul = report.findings[0].model_copy(update={"message": 'brace }\x00{ and },\x00{ end }', "hint": "}"})
    summary = report.summary | {"plan": {"nested": ["a", {"b": 1}]}, "empty": {}}
    for findings in ((), (odd,), (*report.findings, odd), (nul, odd, nul)):
        changed = report.model_copy(update={"findings": findings, "summary": summary})
        expected = json.dumps({"version": 1, "ok": changed.ok, "command": changed.command,
                               "findings": [f.model_dump(mode="json") for f in findings], "summary": summary},
                              indent=2, ensure_ascii=False) + "\n"
        assert render(changed) == expected
