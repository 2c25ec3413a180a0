"""
## What it does
Refuses `TRUNCATE` unless `--allow-destructive` is given, for each table it names: written in the
migration, in a `DO` block, or assembled there from constant strings (`EXECUTE 'TRUNC' || 'ATE t'`).

## Why it is dangerous
`TRUNCATE` removes every row at once, without firing `ON DELETE` triggers, and the rows are gone
the moment the transaction commits; only a backup brings them back. With `CASCADE` it also
empties every table that references it by a foreign key, which the statement does not list. It
takes an ACCESS EXCLUSIVE lock, which blocks every read and write of the table while it waits
for and holds it.

## Bad
```sql
TRUNCATE TABLE sessions CASCADE;
```

## Good
```sql
-- Remove only the rows that must go, in batches from a job rather than in a migration:
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';
```

## When it does not fire
Truncating a table created earlier in the same migration, such as a staging table, is reported
as info: it holds only rows this migration put there. With `--allow-destructive` the finding is
a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-truncate.html
- https://www.postgresql.org/docs/current/explicit-locking.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import TRUNCATE
from migguard.lint.context import LintContext, table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement

HINT = (
    "Delete only the rows that must go, with a WHERE clause and in batches; if the table really must be "
    "emptied, do it in a migration run with --allow-destructive, once a backup exists."
)


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        tree = statement.ast
        if not isinstance(tree, exp.TruncateTable):
            continue
        cascade = str(tree.args.get("option") or "").upper() == "CASCADE"
        for table in tree.args.get("expressions") or []:
            name = table_name(table)
            also = " and, with CASCADE, of every table that references it" if cascade else ""
            yield Violation(
                statement,
                f"Truncating {name} destroys every row of it{also}, and takes an {TRUNCATE.describe()}.",
                HINT,
                offset=_name_offset(statement, name.rsplit(".", 1)[-1]),
                new_object=context.is_new_table(name, statement.index),
            )


def _name_offset(statement: Statement, name: str) -> int:
    """Where the table's name is written (see `locate.relation_offset`); the TRUNCATE keyword otherwise."""
    found = locate.relation_offset(statement, name)
    return found if found is not None else locate.words(statement, "truncate") or 0


RULE = Rule(
    id="ban-truncate",
    default_severity=Severity.ERROR,
    summary="TRUNCATE destroys every row of a table",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"TruncateStmt"}),
)
