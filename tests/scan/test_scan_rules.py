"""The scan-app findings are documented like the static rules, and their docs are executable.

- every id migguard/scan/scanner.py reports is documented (a `FindingKind`), with the severity it is reported at;
- every doc has the sections of a static rule's docs;
- the Bad files of each doc, written to an empty directory and scanned by `run_scan` (what
  `migguard scan-app` runs) with the example tables monitored, report the id; the Good files
  report nothing at all;
- `migguard rules` / `explain` show the ids, and `[tool.migguard.rules]` accepts them and applies
  to scan-app's findings ("off" drops, a severity replaces the default).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import migguard.scan.scanner as scan_app_module
from migguard.core.config import Config
from migguard.core.finding_ids import FindingKind, finding_kind, finding_kinds
from migguard.core.findings import Severity
from migguard.lint.rules import RULES_BY_ID
from migguard.scan.findings import EXAMPLE_TABLES, FAMILY, SCAN_RULES, SECTIONS, examples
from migguard.scan.scanner import ScanOptions, run_scan

ROOT = Path(__file__).parents[2]
ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ALLOWLIST = ".migguard-allow"


def _reported_ids() -> dict[str, str]:
    """Every rule id scan/scanner.py reports, with the severity of the Finding(s) it builds for it."""
    text = Path(scan_app_module.__file__).read_text(encoding="utf-8")
    constants = dict(re.findall(r'^([A-Z_]+_RULE) = "([a-z0-9-]+)"$', text, re.MULTILINE))
    assert re.findall(r'rule="', text) == [], "scan/scanner.py builds a finding with a literal rule id"
    severities: dict[str, set[str]] = {}
    for name, severity in re.findall(r"rule=([A-Z_]+), severity=Severity\.(\w+)", text):
        severities.setdefault(constants[name], set()).add(severity)
    for name in re.findall(r"OrmHit\(([A-Z_]+),", text):  # ORM hits become findings with Severity.ERROR
        severities.setdefault(constants[name], set()).add("ERROR")
    assert re.findall(r"rule=hit\.rule, severity=Severity\.(\w+)", text) == ["ERROR"]
    assert all(len(found) == 1 for found in severities.values()), severities
    assert set(severities) == set(constants.values()), "a rule constant that no finding uses"
    return {rule_id: found.pop() for rule_id, found in severities.items()}


def scan(tmp_path: Path, files: list, rules: dict[str, str] | None = None, monkeypatch=None):
    """Write the example files under tmp_path and scan it as `migguard scan-app .` would."""
    for example in files:
        target = tmp_path / example.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example.text, encoding="utf-8")
    (tmp_path / ".git").mkdir(exist_ok=True)  # no allowlist above the example is read
    monkeypatch.chdir(tmp_path)
    options = ScanOptions(paths=(".",), tables=(",".join(EXAMPLE_TABLES),),
                          allowlist=ALLOWLIST if (tmp_path / ALLOWLIST).exists() else None)
    return run_scan(options, Config(rules=rules or {}, root=str(tmp_path)))


# --- the registry ---------------------------------------------------------------------------------


def test_every_reported_id_is_documented_at_its_severity():
    reported = _reported_ids()
    assert set(reported) == {r.id for r in SCAN_RULES}
    for rule_id, severity in reported.items():
        assert finding_kind(rule_id).default_severity == Severity[severity], rule_id


def test_registry_is_sorted_unique_and_shadows_nothing():
    ids = [r.id for r in SCAN_RULES]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert all(finding_kind(r.id) == r for r in SCAN_RULES)  # the one registry serves them
    assert all(ID_PATTERN.match(r.id) and r.family == FAMILY and not r.destructive for r in SCAN_RULES)
    from migguard.core.finding_ids import SECTIONS as DATABASE_SECTIONS

    others = set(RULES_BY_ID) | {kind.id for kind in finding_kinds("database")}
    assert not set(ids) & others, "a scan-app id shadows another rule"
    assert SECTIONS == DATABASE_SECTIONS


def test_config_validation_imports_neither_the_scanner_nor_the_database_driver():
    code = ("import sys; from migguard.core.config import Config; Config(rules={'orm-unscoped-delete': 'off'}); "
            "print(sorted(m for m in ('migguard.scan.scanner', 'migguard.rls.audit', 'psycopg') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- the docs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", SCAN_RULES, ids=lambda r: r.id)
def test_docs_have_every_section(rule: FindingKind):
    headings = re.findall(r"^## (.+)$", rule.doc, re.MULTILINE)
    assert tuple(headings) == SECTIONS, f"{rule.id}: sections {headings}"
    assert rule.summary and not rule.summary.endswith(".")
    references = rule.doc.split("## References\n", 1)[1]
    assert re.search(r"^- https://", references, re.MULTILINE)
    bad, good = examples(rule.doc, "Bad"), examples(rule.doc, "Good")
    assert bad != good
    assert {e.language for e in bad + good} <= {"python", "ts", "sql", "text"}


@pytest.mark.parametrize("rule", SCAN_RULES, ids=lambda r: r.id)
def test_bad_example_reports_the_id(rule: FindingKind, tmp_path, monkeypatch):
    report = scan(tmp_path, examples(rule.doc, "Bad"), monkeypatch=monkeypatch)
    fired = [f for f in report.findings if f.rule == rule.id]
    assert fired, [(f.rule, f.path, f.line) for f in report.findings]
    assert all(f.severity == rule.default_severity and f.message and f.hint for f in fired)
    assert report.ok == (rule.default_severity != Severity.ERROR)


@pytest.mark.parametrize("rule", SCAN_RULES, ids=lambda r: r.id)
def test_good_example_reports_nothing(rule: FindingKind, tmp_path, monkeypatch):
    files = examples(rule.doc, "Good")
    report = scan(tmp_path, files, monkeypatch=monkeypatch)
    assert [(f.rule, f.path, f.line) for f in report.findings] == []
    assert report.ok and report.summary["files"] >= 1
    if any(e.path == ALLOWLIST for e in files):  # the entry is used: it silences a real finding
        assert report.summary["allowlisted"] >= 1


def test_examples_need_a_comment_naming_the_file():
    with pytest.raises(ValueError, match="comment naming its file"):
        examples("## Bad\n```ts\nawait db.delete(bookings);\n```\n", "Bad")
    with pytest.raises(ValueError, match="no fenced block"):
        examples("## Bad\nnothing\n## Good\n", "Bad")


# --- rules, explain, [tool.migguard.rules] --------------------------------------------------------


def test_cli_lists_and_explains_scan_rules(capsys):
    from migguard.cli.rules import explain, list_rules

    list_rules(format="json")
    listed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert {r.id for r in SCAN_RULES} <= set(listed) and list(listed) == sorted(listed)
    assert listed["unused-allowlist-entry"] == {"id": "unused-allowlist-entry", "severity": "warning",
                                                "family": "app-scan", "destructive": False,
                                                "summary": finding_kind("unused-allowlist-entry").summary}
    list_rules(format="text")
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("unscanned-file "))
    assert line.split()[1:3] == ["info", "app-scan"]
    explain("orm-unscoped-delete")
    shown = capsys.readouterr().out
    assert shown.startswith("# orm-unscoped-delete\n") and "family: app-scan" in shown and "## Good\n```ts" in shown


def test_config_accepts_scan_rule_ids():
    rules = {"tenant-filter-missing": "warning", "unscanned-file": "off", "schema-drift": "warning"}
    assert Config(rules=rules).rules == rules
    with pytest.raises(ValidationError, match="unknown rule id 'tenant-filter-mising'"):
        Config(rules={"tenant-filter-mising": "off"})


def test_configured_rules_apply_to_scan_app_findings(tmp_path, monkeypatch):
    files = [*examples(finding_kind("tenant-filter-missing").doc, "Bad"),
             *examples(finding_kind("unscanned-file").doc, "Bad")]
    plain = scan(tmp_path, files, monkeypatch=monkeypatch)
    assert sorted({(f.rule, f.severity.value) for f in plain.findings}) == [
        ("tenant-filter-missing", "error"), ("unscanned-file", "info")]
    assert not plain.ok and plain.summary["errors"] == 2

    relaxed = scan(tmp_path, [], {"tenant-filter-missing": "warning", "unscanned-file": "off"}, monkeypatch)
    assert {(f.rule, f.severity.value) for f in relaxed.findings} == {("tenant-filter-missing", "warning")}
    assert relaxed.ok and relaxed.summary["errors"] == 0 and relaxed.summary["warnings"] == 2
    assert relaxed.summary["infos"] == 0

    (tmp_path / ALLOWLIST).write_text("gone.py:1\n", encoding="utf-8")
    stricter = scan(tmp_path, [], {"unused-allowlist-entry": "error", "tenant-filter-missing": "off"}, monkeypatch)
    assert [(f.rule, f.severity.value) for f in stricter.findings if f.rule != "unscanned-file"] == [
        ("unused-allowlist-entry", "error")]
    assert not stricter.ok
