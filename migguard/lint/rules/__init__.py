"""The rule registry: every rule module, listed once and explicitly (tests/lint/rules/test_registry.py
checks that none is forgotten), built on first use. `migguard.lint.dispatch` lists what lint needs to
choose rules without importing them all. Their ids join the one registry of finding ids as `FINDINGS`
(`migguard.core.finding_ids`)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING


# Grouped by family; keep each group alphabetical.
_MODULE_NAMES = (
    # meta: findings lint itself produces
    "ignore_without_reason",
    "syntax_error",
    "unanalysed_statement",
    "unused_ignore",
    # destructive
    "ban_delete_without_where",
    "ban_destructive_code_block",
    "ban_destructive_merge",
    "ban_disable_rls",
    "ban_drop_cascade",
    "ban_drop_column",
    "ban_drop_database",
    "ban_drop_key_constraint",
    "ban_drop_policy",
    "ban_drop_schema",
    "ban_drop_table",
    "ban_narrowing_type_change",
    "ban_rule_with_dml",
    "ban_truncate",
    "ban_unreadable_dynamic_sql",
    "ban_update_without_where",
    "renaming_column",
    "renaming_enum_value",
    "renaming_schema",
    "renaming_table",
    # locks
    "adding_not_null_column",
    "ban_add_exclusion_constraint",
    "ban_add_generated_column",
    "ban_add_serial_column",
    "ban_cluster",
    "ban_concurrently_in_transaction",
    "ban_domain_check_constraint",
    "ban_set_tablespace",
    "ban_unbounded_timeout",
    "ban_update_in_ddl_transaction",
    "ban_vacuum_full",
    "ban_validate_same_transaction",
    "ban_volatile_default",
    "changing_column_type",
    "constraint_missing_not_valid",
    "prefer_single_alter_table",
    "require_check_for_set_not_null",
    "require_concurrent_detach_partition",
    "require_concurrent_index_creation",
    "require_concurrent_index_deletion",
    "require_concurrent_reindex",
    "require_lock_timeout",
    "require_unique_using_index",
    # compatibility
    "ban_drop_default_of_new_not_null_column",
    "ban_drop_not_null",
    "prefer_jsonb",
    "require_enum_value_position",
    # tenancy
    "ban_constant_true_policy",
    "ban_nullable_tenant_column",
    "ban_security_definer_function",
    "require_rls_enabled",
    "require_rls_forced",
    "require_security_invoker_view",
    "require_tenant_policy",
    # hygiene
    "ban_mixing_concurrently",
    "ban_uncommitted_transaction",
    "identifier_too_long",
    "prefer_bigint",
    "prefer_identity",
    "prefer_robust_stmts",
    "prefer_text_field",
    "prefer_timestamptz",
    "transaction_nesting",
    # workflow
    "migration_outside_write_path",
    "missing_template_header",
)
_LAZY = frozenset({"ALL_RULES", "RULES_BY_ID", "FAMILIES", "FINDINGS"})

if TYPE_CHECKING:
    from migguard.core.finding_ids import FindingProvider
    from migguard.lint.rule import Rule

    ALL_RULES: tuple[Rule, ...]
    RULES_BY_ID: dict[str, Rule]
    FAMILIES: dict[str, tuple[str, ...]]
    FINDINGS: FindingProvider


def __getattr__(name: str):
    """The registry, built on first use: importing one rule module (`migguard.lint.dispatch.load`) runs this
    package's code without importing every other one."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from migguard.core.finding_ids import FindingKind, FindingProvider
    from migguard.lint.rule import FAMILIES as RULE_FAMILIES

    modules = tuple(import_module(f"{__name__}.{module}") for module in _MODULE_NAMES)
    all_rules = tuple(sorted((module.RULE for module in modules), key=lambda rule: rule.id))
    globals().update(
        ALL_RULES=all_rules,
        RULES_BY_ID={rule.id: rule for rule in all_rules},
        FAMILIES={family: tuple(rule.id for rule in all_rules if rule.family == family)
                  for family in sorted({rule.family for rule in all_rules})},
        FINDINGS=FindingProvider(
            origin="lint",
            families=RULE_FAMILIES,
            kinds=tuple(FindingKind(rule.id, rule.default_severity, rule.summary, rule.family, "lint", rule.doc,
                                    rule.destructive) for rule in all_rules),
        ),
    )
    return globals()[name]
