"""
## What it does
Flags `ALTER TABLE | INDEX | MATERIALIZED VIEW … SET TABLESPACE` and the `ALL IN TABLESPACE … SET
TABLESPACE` form that moves every such relation of a tablespace.

## Why it is dangerous
Moving a relation copies every one of its data files, block by block, to the new tablespace while
an ACCESS EXCLUSIVE lock, which blocks every read and write of the table, is held until the copy
ends: minutes to hours for a large table (its indexes are not moved with it and need an `ALTER
INDEX … SET TABLESPACE` each, under the same kind of lock). There is no concurrent form.

## Bad
```sql
ALTER TABLE events SET TABLESPACE archive;
```

## Good
```sql
-- New relations go to the new tablespace; existing ones move in a maintenance window (or are
-- rebuilt online by a tool such as pg_repack, which moves them without the long lock):
CREATE INDEX CONCURRENTLY events_created_idx ON events (created_at) TABLESPACE archive;
```

## When it does not fire
`CREATE TABLE/INDEX … TABLESPACE` (a new relation has nothing to copy), `SET default_tablespace`,
and moving a table or index created earlier in the same migration (reported as info).
`ALTER DATABASE … SET TABLESPACE` is not read by this rule.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-TABLESPACE
- https://www.postgresql.org/docs/current/sql-alterindex.html
- https://github.com/tbicr/django-pg-zero-downtime-migrations#dealing-with-set-tablespace
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext, display, normalise, table_name
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, Other

HINT = ("Move it in a maintenance window with a short lock_timeout (silencing this rule with a reason), or rebuild "
        "it online with a tool such as pg_repack; create new relations directly in the new tablespace.")
_KINDS = {"table": "table", "index": "index", "materialized view": "materialized view", "matview": "materialized view"}


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        if isinstance(statement.command, Other) and statement.command.node_type == "AlterTableMoveAllStmt":
            yield Violation(
                statement,
                f"Moving every relation of a tablespace copies each of them under an {ACCESS_EXCLUSIVE.describe()} "
                "until its copy ends.",
                HINT,
                offset=locate.words(statement, "all in tablespace") or 0,
            )
            continue
        moved = _moved(statement)
        if moved is None:
            continue
        kind, name = moved
        new = (ddl.index_table(context, name, statement.index) is not None if kind == "index"
               else context.is_new_table(name, statement.index))
        yield Violation(
            statement,
            f"Moving {kind} {display(name)} to another tablespace copies all of its data under an "
            f"{ACCESS_EXCLUSIVE.describe()} until the copy ends.",
            HINT,
            offset=locate.words(statement, "set tablespace") or 0,
            new_object=new,
        )


def _moved(statement: Statement) -> tuple[str, str] | None:
    """(kind, name) of the relation an ALTER … SET TABLESPACE moves, from either parser."""
    tree, command = statement.ast, statement.command
    if tree is not None and isinstance(tree, exp.Alter):
        kind = _KINDS.get((tree.args.get("kind") or "").lower())
        if kind and any(isinstance(a, exp.AlterSet) and a.args.get("tablespace") is not None
                        for a in tree.args.get("actions") or []):
            return kind, table_name(tree.this)
    elif isinstance(command, AlterTable) and command.object_kind in _KINDS and any(
            a.kind == "set_table_space" for a in command.actions):
        return _KINDS[command.object_kind], normalise(command.table)
    return None


RULE = Rule(
    id="ban-set-tablespace",
    default_severity=Severity.ERROR,
    summary="ALTER … SET TABLESPACE copies the relation under an ACCESS EXCLUSIVE lock",
    family="locks",
    doc=__doc__,
    check=check,
    kinds=frozenset({"AlterTableStmt", "AlterTableMoveAllStmt"}),
)
