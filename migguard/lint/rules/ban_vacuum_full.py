"""
## What it does
Flags `VACUUM FULL`, with or without a table list (`VACUUM (FULL, ANALYZE) …` included).

## Why it is dangerous
`VACUUM FULL` writes a complete new copy of each table and its indexes, holding an ACCESS
EXCLUSIVE lock, which blocks every read and write of the table until the copy ends: minutes to
hours on a large table. It also needs free disk space for the whole copy. Without a table list
it does this to every table of the database, one after the other.

## Bad
```sql
VACUUM FULL accounts;
```

## Good
```sql
-- Plain VACUUM does not block reads or writes; reclaim disk space online with pg_repack or pg_squeeze.
VACUUM (ANALYZE) accounts;
```

## When it does not fire
Plain `VACUUM` and `ANALYZE`. A table created earlier in the same migration is reported as
info: it is small and nobody uses it yet.

## References
- https://www.postgresql.org/docs/current/sql-vacuum.html
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
- https://reorg.github.io/pg_repack/
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import VACUUM_FULL
from migguard.lint.context import LintContext, normalise
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.shapes import Maintenance

HINT = "Reclaim the space online with pg_repack or pg_squeeze instead; plain VACUUM does not block reads or writes."


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        command = statement.command
        if not (isinstance(command, Maintenance) and command.command == "vacuum" and command.full):
            continue
        targets = [normalise(t) for t in command.targets]
        if targets:
            tables = "each table and its" if len(targets) > 1 else "the table and its"
            what = f"VACUUM FULL of {', '.join(targets)} rewrites {tables} indexes,"
        else:
            what = "VACUUM FULL without a table list rewrites every table of the database, one by one,"
        yield Violation(
            statement,
            f"{what} holding an {VACUUM_FULL.describe()} until it ends.",
            HINT,
            offset=locate.words(statement, "full") or 0,
            new_object=bool(targets) and all(context.is_new_table(t, statement.index) for t in targets),
        )


RULE = Rule(
    id="ban-vacuum-full",
    default_severity=Severity.ERROR,
    summary="VACUUM FULL rewrites tables under an ACCESS EXCLUSIVE lock",
    family="locks",
    doc=__doc__,
    check=check,
    kinds=frozenset({"VacuumStmt"}),
)
