"""`migguard.lint.dispatch` is the registry written out for lint: it must say exactly what the rules declare."""

from __future__ import annotations

from migguard.lint import dispatch
from migguard.lint.rules import ALL_RULES, FAMILIES


def _entry(rule) -> str:
    kinds = "None" if rule.kinds is None else "frozenset({" + ", ".join(f'"{k}"' for k in sorted(rule.kinds)) + "})"
    return f'"{rule.id}": ("{rule.family}", {rule.destructive}, {rule.check is not None}, {kinds}),'


def test_the_index_lists_every_rule_in_registry_order_as_it_declares_itself():
    expected = {rule.id: (rule.family, rule.destructive, rule.check is not None, rule.kinds) for rule in ALL_RULES}
    wrong = [_entry(rule) for rule in ALL_RULES if dispatch.RULES.get(rule.id) != expected[rule.id]]
    assert wrong == [], "migguard/lint/dispatch.py RULES should read:\n" + "\n".join(wrong)
    assert list(dispatch.RULES) == [rule.id for rule in ALL_RULES]  # the engine runs rules in this order
    assert dispatch.FAMILIES == FAMILIES


def test_load_gives_the_registered_rule():
    assert all(dispatch.load(rule.id) is rule for rule in ALL_RULES)
