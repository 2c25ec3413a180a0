import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from migguard import __version__
from migguard.lint.rules import RULES_BY_ID
from migguard.report.sarif import artifact_uri, render

# The OASIS SARIF 2.1.0 (errata 01) schema; where it came from: SARIF_SCHEMA_SOURCE.txt.
SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def test_snapshot(report, snapshot):
    assert render(report) == snapshot


@pytest.mark.parametrize("variant", ["fixture", "no findings"])
def test_validates_against_the_sarif_2_1_0_schema(report, variant):
    if variant == "no findings":
        report = report.model_copy(update={"findings": (), "ok": True})
    Draft4Validator.check_schema(SCHEMA)
    errors = sorted(Draft4Validator(SCHEMA).iter_errors(json.loads(render(report))), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_catches_a_broken_log(report):
    document = json.loads(render(report))
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert not Draft4Validator(SCHEMA).is_valid(document)


def test_driver_and_rule_metadata(report):
    document = json.loads(render(report))
    assert document["version"] == "2.1.0" and document["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("migguard", __version__)
    assert [rule["id"] for rule in driver["rules"]] == sorted({f.rule for f in report.findings})
    for descriptor in driver["rules"]:
        rule = RULES_BY_ID[descriptor["id"]]
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["markdown"] == rule.doc.strip() == descriptor["help"]["text"]
        assert "## Why it is dangerous" in descriptor["help"]["markdown"]
        assert descriptor["fullDescription"]["text"]
        assert rule.family in descriptor["properties"]["tags"]
    levels = {d["id"]: d["defaultConfiguration"]["level"] for d in driver["rules"]}
    assert levels == {"ban-drop-column": "error", "syntax-error": "error", "unanalysed-statement": "note",
                      "unused-ignore": "warning"}


def test_results_point_at_their_rule_with_one_based_regions(report):
    run = json.loads(render(report))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(report.findings)
    for result, finding in zip(run["results"], report.findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[finding.severity.value]
        (location,) = result["locations"]
        region = location["physicalLocation"]["region"]
        assert region == {"startLine": finding.line, "startColumn": finding.column,
                          "endLine": finding.end_line, "endColumn": finding.end_column}
        assert result["message"]["text"].startswith(finding.message)
        if finding.hint:
            assert result["message"]["text"].endswith(f"\nHint: {finding.hint}")


def test_uris_are_the_relative_paths_as_given_and_nothing_volatile(report):
    output = render(report)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(output)["runs"][0]["results"]]
    assert uris == ["migrations/0001_init.sql"] * 2 + ["migrations/0002_caf%C3%A9%20menu.sql"] * 2
    assert str(Path.cwd()) not in output and "file://" not in output
    for volatile in ("startTimeUtc", "endTimeUtc", "invocations", "timeUtc"):
        assert volatile not in output


def test_artifact_uri():
    assert artifact_uri("db/migrations/0001_init.sql") == "db/migrations/0001_init.sql"
    assert artifact_uri("a b/100%#?.sql") == "a%20b/100%25%23%3F.sql"
