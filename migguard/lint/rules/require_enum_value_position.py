"""
## What it does
Flags `ALTER TYPE … ADD VALUE` without `BEFORE` or `AFTER`. When the target is older than
PostgreSQL 12 (`pg_version`), it also flags `ADD VALUE` that runs inside a transaction block,
with or without a position.

## Why it is dangerous
An enum sorts in the order its values were declared, and `<`, `ORDER BY`, `min()`/`max()`,
`enum_range()` and range checks in application code all follow that order. A value added
without a position goes last, which is rarely where it belongs in a lifecycle (`'refunded'`
after `'archived'`), and the order can never be changed afterwards without recreating the type.
Before PostgreSQL 12, `ALTER TYPE … ADD VALUE` cannot run inside a transaction block at all: the
migration fails. Since 12 it can, but the new value cannot be used until that transaction commits.

## Bad
```sql
ALTER TYPE order_status ADD VALUE 'refunded';
```

## Good
```sql
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';
```

## When it does not fire
`ADD VALUE … BEFORE/AFTER` on PostgreSQL 12+, and `RENAME VALUE`. An enum created earlier in the
same migration is reported as info (nothing depends on its order yet), and adding to it inside
the transaction that created it works on every version.

## References
- https://www.postgresql.org/docs/current/sql-altertype.html
- https://www.postgresql.org/docs/current/datatype-enum.html#DATATYPE-ENUM-ORDERING
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import CREATE_TYPE_KINDS, LintContext, normalise, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.shapes import EnumValue


def check(context: LintContext) -> Iterator[Violation]:
    created: set[str] = set()
    version = context.settings.pg_version
    for statement in context.parsed():
        tree = statement.ast if statement.node_kind in CREATE_TYPE_KINDS else None  # the kind answers first
        if tree is not None and isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TYPE":
            created.add(table_name(tree.this))
            continue
        command = statement.command if statement.node_kind == "AlterEnumStmt" else None
        if not isinstance(command, EnumValue) or command.renamed_from is not None:
            continue
        name = normalise(command.type_name)
        new_type = name in created
        unpositioned = command.neighbour is None
        fails = version < 12 and not new_type and context.in_transaction(statement.index)
        if not (unpositioned or fails):
            continue
        problems, hints = [], []
        if unpositioned:
            problems.append(f"Adding value '{command.value}' to enum {name} without BEFORE or AFTER puts it last in "
                            f"the type's sort order, which ORDER BY, comparisons and enum_range() follow.")
            hints.append("Say where it belongs with BEFORE '…' or AFTER '…'.")
        if fails:
            problems.append(f"On PostgreSQL {version}, ALTER TYPE … ADD VALUE cannot run inside a transaction "
                            f"block, and this statement runs in one: the migration fails.")
            hints.append("Put it in a migration of its own that runs outside a transaction block.")
        yield Violation(statement, " ".join(problems), " ".join(hints),
                        offset=locate.words(statement, "add value") or 0, new_object=new_type)


RULE = Rule(
    id="require-enum-value-position",
    default_severity=Severity.WARNING,
    summary="ALTER TYPE … ADD VALUE without BEFORE/AFTER appends the value last in the enum's order",
    family="compatibility",
    doc=__doc__,
    check=check,
    kinds=CREATE_TYPE_KINDS | {"AlterEnumStmt"}  # the types this file creates, and ADD VALUE,
)
