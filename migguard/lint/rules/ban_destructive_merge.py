"""
## What it does
Refuses a `MERGE` with a `WHEN MATCHED … THEN DELETE` or `THEN UPDATE` action (or PostgreSQL 17's
`WHEN NOT MATCHED BY SOURCE … THEN DELETE / UPDATE`), unless `--allow-destructive` is given.

## Why it is dangerous
A `MERGE` deletes or overwrites every target row its join matches, and which rows those are is
decided by the data of the source, not by the statement: `ON v.id = s.id` with the table itself (or
a copy of it) as the source reaches every row, and `ON true` always does. `NOT MATCHED BY SOURCE`
reaches every target row the source lacks. The schema diff does not see it; the rows are gone or
overwritten the moment the transaction commits, and only a backup brings them back. Unlike a
`DELETE`'s `WHERE`, a `MERGE` has no filter of its own that bounds its reach, so migguard does not
try to judge one (a `WHEN MATCHED AND …` condition included).

## Bad
```sql
MERGE INTO accounts a
USING legacy_accounts l ON a.id = l.id
WHEN MATCHED THEN DELETE;
```

## Good
```sql
-- Insert-only: rows already there are left as they are.
MERGE INTO accounts a
USING legacy_accounts l ON a.id = l.id
WHEN NOT MATCHED THEN INSERT (id, name) VALUES (l.id, l.name)
WHEN MATCHED THEN DO NOTHING;
```

## When it does not fire
A `MERGE` that only inserts (`WHEN NOT MATCHED THEN INSERT`) or does nothing to matched rows. A
`MERGE` into a table created earlier in the same migration is reported as info. With
`--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-merge.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, display, table_name
from migguard.lint.facts.dml import DML_KINDS
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate, nodes
from migguard.sql.lazy import exp
from migguard.sql.shapes import Other

HINT = (
    "Move the data change out of the migration into a reviewed job that names the rows; if this MERGE must "
    "delete or overwrite rows here, apply it with --allow-destructive and an ignore that gives the reason."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        if statement.node_kind not in DML_KINDS or not nodes.contains(statement.node, "MergeStmt"):
            continue  # neither a MERGE nor a WITH that holds one
        tree = statement.ast
        merges = [tree] if isinstance(tree, exp.Merge) else []
        with_clause = tree.args.get("with_") or tree.args.get("with") if tree is not None else None
        if isinstance(with_clause, exp.With):
            merges += [cte.this for cte in with_clause.expressions if isinstance(cte.this, exp.Merge)]
        for merge in merges:
            actions = _writes(merge)
            if not actions:
                continue
            name = table_name(merge.this)
            on = merge.args.get("on")
            reach = ("every row of it, since its ON condition is always true" if isinstance(on, exp.Boolean) and on.this
                     else "the rows its source matches, and which rows those are depends on the data, not on the "
                          "statement")
            yield Violation(statement, f"This MERGE into {display(name)} {' and '.join(actions)} {reach}.", HINT,
                            offset=locate.words(statement, "when not? matched") or 0,
                            new_object=context.is_new_table(name, statement.index))
        if tree is None and isinstance(statement.command, Other) and statement.command.node_type == "MergeStmt":
            yield Violation(statement, "migguard could not read this MERGE's actions, so it may delete or overwrite "
                                       "rows that no rule checked.", HINT)


def _writes(merge: exp.Merge) -> list[str]:
    """What the MERGE does to existing target rows: deletes and/or overwrites."""
    whens = merge.args.get("whens")
    found = []
    for when in whens.expressions if isinstance(whens, exp.Whens) else []:
        if not (when.args.get("matched") or when.args.get("source")):
            continue  # WHEN NOT MATCHED [BY TARGET]: only INSERT is allowed there
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            found.append("overwrites")
        elif isinstance(then, exp.Var) and then.name.upper() == "DELETE":
            found.append("deletes")
    return list(dict.fromkeys(found))


RULE = Rule(
    id="ban-destructive-merge",
    default_severity=Severity.ERROR,
    summary="MERGE … WHEN MATCHED THEN DELETE/UPDATE deletes or overwrites the rows its source matches",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=DML_KINDS,  # the statements that can hold one, WITH clauses included
)
