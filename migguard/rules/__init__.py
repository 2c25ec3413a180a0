"""The rule registry: every rule module, listed explicitly (tests/rules/test_registry.py checks it)."""

from __future__ import annotations

from migguard.rules import (  # noqa: I001  (grouped by family; keep each group alphabetical)
    # meta: findings lint itself produces
    ignore_without_reason,
    syntax_error,
    unanalysed_statement,
    unused_ignore,
    # destructive
    ban_drop_column,
    # locks
    # compatibility
    # tenancy
    # hygiene
)
from migguard.rules.base import Rule

_MODULES = (
    # meta
    ignore_without_reason,
    syntax_error,
    unanalysed_statement,
    unused_ignore,
    # destructive
    ban_drop_column,
    # locks
    # compatibility
    # tenancy
    # hygiene
)

ALL_RULES: tuple[Rule, ...] = tuple(sorted((module.RULE for module in _MODULES), key=lambda rule: rule.id))
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}
FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(rule.id for rule in ALL_RULES if rule.family == family)
    for family in sorted({rule.family for rule in ALL_RULES})
}


def get(rule_id: str) -> Rule:
    """The rule with this id; KeyError names it when there is none."""
    try:
        return RULES_BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}") from None
