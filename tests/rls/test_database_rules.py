"""The database findings are documented like the static rules, and their docs are executable.

- every finding id the RLS audit, the isolation probe and `migguard plan` can report has a
  `FindingKind` of `rls/findings.py` (or is a static rule id);
- every doc has the sections of a static rule's docs;
- the Bad schema of each `rls-*` id, run on a fresh database, makes the audit (or the probe)
  report the id, and the Good schema is clean (no finding from the audit or the probe).

Roles are cluster-wide and the session cluster is shared, so the role names of the examples
(`app_user`, `migrator`) are given a unique suffix per test and dropped afterwards.
"""

from __future__ import annotations

import json
import re
import tomllib
import uuid
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

import migguard.drift.replay as replay_module
import migguard.plan.command as plan_module
import migguard.plan.prechecks as prechecks_module
import migguard.rls.audit as rls_module
import migguard.rls.probe as rls_probe_module
from migguard.core.finding_ids import SECTIONS, FindingKind, FindingProvider, build, finding_kind, finding_kinds, sql_block
from migguard.core.findings import Severity
from migguard.lint.rules import RULES_BY_ID
from migguard.rls.audit import audit
from migguard.plan.findings import PLAN_RULES
from migguard.rls.findings import DATABASE_RULES as RLS_FINDINGS
from migguard.rls.findings import FAMILIES as RLS_FAMILIES
from migguard.rls.findings import RLS_RULES
from migguard.rls.probe import probe
from migguard.sql.parse import parse_file

ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ROLE_NAMES = ("app_user", "migrator")  # the roles the examples use
# the database steps' ids: the RLS audit's and probe's (rls/findings.py) and plan's (plan/findings.py)
DATABASE_RULES = tuple(sorted(RLS_FINDINGS + PLAN_RULES, key=lambda rule: rule.id))
FAMILIES = (*RLS_FAMILIES, "plan")
CATALOG = [r for r in DATABASE_RULES if r.family == "rls-catalog"]
PROBE = [r for r in DATABASE_RULES if r.family == "rls-probe"]
PLAN = [r for r in DATABASE_RULES if r.family == "plan"]


def _source(module) -> str:
    return Path(module.__file__).read_text(encoding="utf-8")


def _plan_ids() -> set[str]:
    """Every rule id migguard/plan/command.py reports (literal ids, and precheck-<kind> per kind prechecks.py has),
    and those of the replay (migguard/drift/replay.py, constants)."""
    text = _source(plan_module)
    ids = set(re.findall(r'(?:rule=|_db_finding\()"([a-z0-9-]+)"', text))
    ids |= set(re.findall(r'^[A-Z_]+ = "([a-z0-9-]+)"$', _source(replay_module), re.MULTILINE))
    dynamic = re.findall(r'(?:rule=|_db_finding\()f"([^"]*)"', text)
    assert dynamic == ["precheck-{result.check}"], f"plan/command.py builds rule ids this test does not know: {dynamic}"
    kinds = set(re.findall(r'checks\.append\(\("([a-z-]+)"', _source(prechecks_module)))
    assert kinds, "no pre-check kinds found in migguard/plan/prechecks.py"
    return ids | {f"precheck-{kind}" for kind in kinds}


def _rls_reported_ids() -> set[str]:
    return {rule for module in (rls_module, rls_probe_module)
            for rule in re.findall(r'(?:finding|leak)\(\s*"([a-z0-9-]+)"', _source(module))}


# --- the registry ---------------------------------------------------------------------------------


def test_every_reported_id_is_documented():
    documented = {kind.id for kind in finding_kinds()}
    assert not set(RLS_RULES) - documented, "RLS ids without docs"
    assert not _plan_ids() - documented, "plan ids without docs"


def test_rls_code_reports_exactly_the_catalogued_ids():
    assert _rls_reported_ids() == set(RLS_RULES)


def test_database_rules_cover_exactly_the_ids_without_a_static_rule():
    expected = (set(RLS_RULES) | _plan_ids()) - set(RULES_BY_ID)
    assert {r.id for r in DATABASE_RULES} == expected
    assert not {r.id for r in DATABASE_RULES} & set(RULES_BY_ID), "a database rule shadows a static rule"


def test_registry_is_sorted_unique_and_indexed():
    ids = [r.id for r in DATABASE_RULES]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert all(finding_kind(r.id) == r for r in DATABASE_RULES)  # the one registry serves them
    assert all(ID_PATTERN.match(i) for i in ids), ids
    assert {r.family for r in DATABASE_RULES} == set(FAMILIES)


def test_rls_severities_and_summaries_come_from_the_rls_catalogue():
    for rule in CATALOG + PROBE:
        assert (rule.default_severity, rule.summary) == RLS_RULES[rule.id]
    assert {r.id for r in PROBE} == {i for i in RLS_RULES if i.startswith("rls-probe-")}


def test_plan_severities_match_what_plan_reports():
    text = _source(plan_module)
    for rule_id, severity in re.findall(r'_db_finding\("([a-z0-9-]+)", Severity\.(\w+),', text):
        assert finding_kind(rule_id).default_severity == Severity[severity], rule_id
    assert finding_kind("schema-drift").default_severity == Severity.ERROR  # warning only with --accept-drift
    assert finding_kind("query-plan-regression").default_severity == Severity.WARNING
    assert finding_kind("precheck-destroyed-rows").default_severity == Severity.WARNING  # fails_migration=False
    assert all(finding_kind(f"precheck-{k}").default_severity == Severity.ERROR
               for k in ("not-null", "unique", "foreign-key", "check", "narrowing"))


def test_a_database_rule_needs_a_known_family():
    stray = FindingKind("x-y", Severity.INFO, "s", "lint", "database", "d")
    with pytest.raises(ValueError, match="family 'lint' is not one of its provider's"):
        build([FindingProvider("database", FAMILIES, (stray,))])


def test_cli_lists_and_explains_database_rules(capsys):
    from migguard.cli.rules import explain, list_rules

    list_rules(format="json")
    listed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}

    assert {kind.id for kind in finding_kinds()} == set(listed) and list(listed) == sorted(listed)
    assert listed["schema-drift"]["family"] == "plan" and listed["rls-probe-view-leak"]["severity"] == "error"
    explain("rls-app-role-owner")
    shown = capsys.readouterr().out
    assert shown.startswith("# rls-app-role-owner\n") and "family: rls-catalog" in shown and "## Good" in shown


def test_config_accepts_database_rule_ids():
    from migguard.core.config import Config

    assert Config(rules={"schema-drift": "warning", "rls-exempt": "off"}).rules == {"schema-drift": "warning",
                                                                                    "rls-exempt": "off"}
    with pytest.raises(ValidationError, match="unknown rule id 'rls-nonsense'"):
        Config(rules={"ban-drop-column": "off", "rls-nonsense": "off"})


# --- the docs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", DATABASE_RULES, ids=lambda r: r.id)
def test_docs_have_every_section(rule):
    headings = re.findall(r"^## (.+)$", rule.doc, re.MULTILINE)
    assert tuple(headings) == SECTIONS, f"{rule.id}: sections {headings}"
    assert rule.summary and not rule.summary.endswith(".")
    references = rule.doc.split("## References\n", 1)[1]
    assert re.search(r"^- https://", references, re.MULTILINE)


@pytest.mark.parametrize("rule", DATABASE_RULES, ids=lambda r: r.id)
def test_docs_examples_are_sql_that_parses(rule):
    bad, good = sql_block(rule.doc, "Bad"), sql_block(rule.doc, "Good")
    assert bad.strip() and good.strip() and bad != good
    for text in (bad, good):
        statements = parse_file(text).statements
        assert statements, f"{rule.id}: an example with no statement"
        assert all(s.syntax_error is None for s in statements), f"{rule.id}: {text}"


@pytest.mark.parametrize("rule", PLAN, ids=lambda r: r.id)
def test_plan_docs_describe_the_situation_in_comments(rule):
    for section in ("Bad", "Good"):
        assert sql_block(rule.doc, section).lstrip().startswith("--"), f"{rule.id}: {section} starts without a comment"


# --- the RLS examples, executed -------------------------------------------------------------------


@pytest.fixture
def roles(pg):
    """Unique names for the examples' roles; the roles (and what they own or were granted in the
    test's database) are dropped afterwards."""
    suffix = f"{psycopg.conninfo.conninfo_to_dict(pg)['dbname']}_{uuid.uuid4().hex[:6]}"
    names = {name: f"{name}_{suffix}" for name in ROLE_NAMES}
    yield names
    with psycopg.connect(pg, autocommit=True) as conn:
        for role in names.values():
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


def _rename(text: str, roles: dict[str, str]) -> str:
    return re.sub(r"\b(" + "|".join(ROLE_NAMES) + r")\b", lambda m: roles[m.group(1)], text)


def _settings(text: str, roles: dict[str, str]) -> dict:
    """The audit/probe settings of an example: defaults, changed by `-- migguard.toml: …` lines."""
    config = tomllib.loads("\n".join(re.findall(r"^-- migguard\.toml: (.*)$", text, re.MULTILINE)))
    return {"tenant_column": config.get("tenant_column", "tenant_id"),
            "tenant_setting": config.get("tenant_setting", "app.tenant_id"),
            "app_roles": tuple(roles.get(r, r) for r in config.get("app_roles", ["app_user"])),
            "exempt_tables": tuple(config.get("rls", {}).get("exempt_tables", ()))}


def _load(rule: FindingKind, example: str, url: str, roles: dict[str, str]) -> dict:
    """Run the example's SQL on the database at `url`; its audit/probe settings."""
    text = sql_block(rule.doc, example)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_rename(text, roles))
    return _settings(text, roles)


def _rules(result) -> set[str]:
    return {f.rule for f in result.findings}


def _examples(rule: FindingKind, example: str, url: str, roles: dict[str, str], check) -> None:
    settings = _load(rule, example, url, roles)
    if example == "Bad":
        found = _rules(check(url, **settings))
        assert rule.id in found, f"{rule.id}: the Bad example is not reported; found {sorted(found)}"
        return
    # the Good schema is clean: nothing from the audit, nothing from the probe
    findings = [(f.rule, f.message) for check in (audit, probe) for f in check(url, **settings).findings]
    assert not findings, f"{rule.id}: the Good example has findings: {findings}"


@pytest.mark.pg
@pytest.mark.parametrize("example", ["Bad", "Good"])
@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_catalog_examples(rule, example, pg, roles):
    _examples(rule, example, pg, roles, audit)


@pytest.mark.pg
@pytest.mark.parametrize("example", ["Bad", "Good"])
@pytest.mark.parametrize("rule", PROBE, ids=lambda r: r.id)
def test_probe_examples(rule, example, pg, roles):
    _examples(rule, example, pg, roles, probe)
