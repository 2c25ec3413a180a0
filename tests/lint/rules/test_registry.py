"""The registry is complete and every rule's docs are executable (STYLE 7.2)."""

from __future__ import annotations

import pkgutil
import re

import pytest

import migguard.lint.rules as rules_package
from migguard.lint.rules import ALL_RULES, RULES_BY_ID
from tests.lint.lintkit import assert_clean, assert_flags

SUPPORT_MODULES = {"base", "columns", "context", "ddl", "dml", "locks"}
SECTIONS = ("What it does", "Why it is dangerous", "Bad", "Good", "When it does not fire", "References")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def _sql_block(doc: str, section: str) -> str:
    match = re.search(rf"^## {section}\n+```sql\n(.*?)\n```", doc, re.MULTILINE | re.DOTALL)
    assert match, f"section '{section}' has no ```sql block"
    return match.group(1)


def test_every_rule_module_is_registered():
    modules = {m.name for m in pkgutil.iter_modules(rules_package.__path__)} - SUPPORT_MODULES
    registered = {rule.id.replace("-", "_") for rule in ALL_RULES}
    assert modules == registered, f"not registered: {modules - registered}; no module: {registered - modules}"


def test_ids_are_unique_kebab_case():
    ids = [rule.id for rule in ALL_RULES]
    assert len(ids) == len(set(ids))
    assert all(ID_PATTERN.match(rule_id) for rule_id in ids), ids


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_docs_have_every_section(rule):
    headings = re.findall(r"^## (.+)$", rule.doc, re.MULTILINE)
    assert tuple(headings) == SECTIONS, f"{rule.id}: sections {headings}"
    assert rule.summary and not rule.summary.endswith(".")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_docs_bad_example_flags(rule):
    assert_flags(_sql_block(rule.doc, "Bad"), rule.id)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_docs_good_example_is_clean(rule):
    assert_clean(_sql_block(rule.doc, "Good"), rule.id)


def test_destructive_rules_are_errors_by_default():
    for rule in ALL_RULES:
        if rule.destructive:
            assert rule.family == "destructive" and rule.default_severity.value == "error", rule.id


def test_lookup_by_id():
    assert RULES_BY_ID["ban-drop-column"].destructive
