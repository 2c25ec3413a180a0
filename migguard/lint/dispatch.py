"""Which rules judge which statements, written out so that `migguard lint` imports only the rule modules a
file can reach: a cold one-file lint (a pre-commit hook) pays for a fraction of the ~70 modules, not all.

For every rule id, in the registry's order (`migguard.lint.rules.ALL_RULES`, by id): its family, whether it
is destructive, whether it has a check (the meta rules are findings lint itself produces), and the PostgreSQL
node kinds it judges (`Rule.kinds`; None: every statement). That is all that rule selection (`--select`,
families, config) and dispatch need; a rule's module is imported when a file has a statement of its kinds.
The registry stays the one source of truth: tests/lint/rules/test_dispatch_index.py fails, printing the
line to write, if this table and the rules' own declarations ever differ.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migguard.lint.rule import Rule

# rule id: (family, destructive, has a check, node kinds or None)
RULES: dict[str, tuple[str, bool, bool, frozenset[str] | None]] = {
    "adding-not-null-column": ("locks", False, True, None),
    "ban-add-exclusion-constraint": ("locks", False, True, None),
    "ban-add-generated-column": ("locks", False, True, None),
    "ban-add-serial-column": ("locks", False, True, None),
    "ban-cluster": ("locks", False, True, frozenset({"ClusterStmt"})),
    "ban-concurrently-in-transaction": ("locks", False, True, None),
    "ban-constant-true-policy": ("tenancy", False, True, frozenset({"AlterPolicyStmt", "CreatePolicyStmt"})),
    "ban-delete-without-where": ("destructive", True, True, frozenset({
        "DeleteStmt", "InsertStmt", "MergeStmt", "SelectStmt", "UpdateStmt",
    })),
    "ban-destructive-code-block": ("destructive", True, True, frozenset({"CreateFunctionStmt", "DoStmt"})),
    "ban-destructive-merge": ("destructive", True, True, frozenset({
        "DeleteStmt", "InsertStmt", "MergeStmt", "SelectStmt", "UpdateStmt",
    })),
    "ban-disable-rls": ("destructive", True, True, frozenset({"AlterTableStmt"})),
    "ban-domain-check-constraint": ("locks", False, True, frozenset({"AlterDomainStmt", "CreateDomainStmt"})),
    "ban-drop-cascade": ("destructive", True, True, frozenset({
        "AlterDomainStmt", "AlterEnumStmt", "AlterObjectSchemaStmt", "AlterTableStmt", "AlterTypeStmt",
        "DropOwnedStmt", "DropRoleStmt", "DropStmt", "DropTableSpaceStmt", "DropdbStmt", "RenameStmt",
    })),
    "ban-drop-column": ("destructive", True, True, frozenset({
        "AlterObjectSchemaStmt", "AlterTableStmt", "RenameStmt",
    })),
    "ban-drop-database": ("destructive", True, True, frozenset({"DropStmt", "DropdbStmt"})),
    "ban-drop-default-of-new-not-null-column": ("compatibility", False, True, None),
    "ban-drop-key-constraint": ("destructive", True, True, frozenset({
        "AlterObjectSchemaStmt", "AlterTableStmt", "RenameStmt",
    })),
    "ban-drop-not-null": ("compatibility", False, True, frozenset({
        "AlterObjectSchemaStmt", "AlterTableStmt", "RenameStmt",
    })),
    "ban-drop-policy": ("destructive", True, True, frozenset({"DropStmt"})),
    "ban-drop-schema": ("destructive", True, True, frozenset({"DropStmt"})),
    "ban-drop-table": ("destructive", True, True, frozenset({"DropStmt"})),
    "ban-mixing-concurrently": ("hygiene", False, True, None),
    "ban-narrowing-type-change": ("destructive", True, True, None),
    "ban-nullable-tenant-column": ("tenancy", False, True, frozenset({
        "AlterObjectSchemaStmt", "AlterTableStmt", "CreateForeignTableStmt", "CreateStmt", "CreateTableAsStmt",
        "RenameStmt",
    })),
    "ban-rule-with-dml": ("destructive", True, True, frozenset({"RuleStmt"})),
    "ban-security-definer-function": ("tenancy", False, True, frozenset({"CreateFunctionStmt"})),
    "ban-set-tablespace": ("locks", False, True, frozenset({"AlterTableMoveAllStmt", "AlterTableStmt"})),
    "ban-truncate": ("destructive", True, True, frozenset({"TruncateStmt"})),
    "ban-unbounded-timeout": ("locks", False, True, None),
    "ban-uncommitted-transaction": ("hygiene", False, True, frozenset({"TransactionStmt"})),
    "ban-unreadable-dynamic-sql": ("destructive", True, True, frozenset({
        "CreateFunctionStmt", "DoStmt", "ExecuteStmt", "ExplainStmt", "PrepareStmt",
    })),
    "ban-update-in-ddl-transaction": ("locks", False, True, None),
    "ban-update-without-where": ("destructive", True, True, frozenset({
        "DeleteStmt", "InsertStmt", "MergeStmt", "SelectStmt", "UpdateStmt",
    })),
    "ban-vacuum-full": ("locks", False, True, frozenset({"VacuumStmt"})),
    "ban-validate-same-transaction": ("locks", False, True, None),
    "ban-volatile-default": ("locks", False, True, None),
    "changing-column-type": ("locks", False, True, None),
    "constraint-missing-not-valid": ("locks", False, True, None),
    "identifier-too-long": ("hygiene", False, True, None),
    "ignore-without-reason": ("meta", False, False, None),
    "migration-outside-write-path": ("workflow", False, True, None),
    "missing-template-header": ("workflow", False, True, None),
    "prefer-bigint": ("hygiene", False, True, None),
    "prefer-identity": ("hygiene", False, True, None),
    "prefer-jsonb": ("compatibility", False, True, None),
    "prefer-robust-stmts": ("hygiene", False, True, frozenset({
        "AlterObjectSchemaStmt", "AlterTableStmt", "CreateForeignTableStmt", "CreateStmt", "CreateTableAsStmt",
        "DropOwnedStmt", "DropRoleStmt", "DropStmt", "DropSubscriptionStmt", "DropTableSpaceStmt",
        "DropUserMappingStmt", "DropdbStmt", "IndexStmt", "RenameStmt",
    })),
    "prefer-single-alter-table": ("locks", False, True, None),
    "prefer-text-field": ("hygiene", False, True, None),
    "prefer-timestamptz": ("hygiene", False, True, None),
    "renaming-column": ("destructive", True, True, frozenset({
        "AlterObjectSchemaStmt", "AlterTableStmt", "RenameStmt",
    })),
    "renaming-enum-value": ("destructive", True, True, None),
    "renaming-schema": ("destructive", True, True, frozenset({"RenameStmt"})),
    "renaming-table": ("destructive", True, True, None),
    "require-check-for-set-not-null": ("locks", False, True, None),
    "require-concurrent-detach-partition": ("locks", False, True, frozenset({"AlterTableStmt"})),
    "require-concurrent-index-creation": ("locks", False, True, None),
    "require-concurrent-index-deletion": ("locks", False, True, frozenset({"DropStmt"})),
    "require-concurrent-reindex": ("locks", False, True, frozenset({"ReindexStmt"})),
    "require-enum-value-position": ("compatibility", False, True, frozenset({
        "AlterEnumStmt", "CompositeTypeStmt", "CreateEnumStmt", "CreateRangeStmt", "DefineStmt",
    })),
    "require-lock-timeout": ("locks", False, True, None),
    "require-rls-enabled": ("tenancy", False, True, None),
    "require-rls-forced": ("tenancy", False, True, None),
    "require-security-invoker-view": ("tenancy", False, True, None),
    "require-tenant-policy": ("tenancy", False, True, None),
    "require-unique-using-index": ("locks", False, True, None),
    "syntax-error": ("meta", False, False, None),
    "transaction-nesting": ("hygiene", False, True, frozenset({"TransactionStmt"})),
    "unanalysed-statement": ("meta", False, False, None),
    "unused-ignore": ("meta", False, False, None),
}

FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(rule_id for rule_id, (of, *_rest) in RULES.items() if of == family)
    for family in sorted({family for family, *_rest in RULES.values()})
}

_LOADED: dict[str, Rule] = {}


def load(rule_id: str) -> Rule:
    """The rule itself, its module imported on first use (`migguard.lint.rules.<id with underscores>`)."""
    rule = _LOADED.get(rule_id)
    if rule is None:
        rule = _LOADED[rule_id] = import_module(f"migguard.lint.rules.{rule_id.replace('-', '_')}").RULE
    return rule
