"""
## What it does
Flags `CLUSTER`, with or without a table.

## Why it is dangerous
`CLUSTER` writes a complete new copy of the table in index order and rebuilds its indexes,
holding an ACCESS EXCLUSIVE lock, which blocks every read and write of the table until it ends:
minutes to hours on a large table. Without a table it re-clusters every table of the database
that was clustered before, one after the other.

## Bad
```sql
CLUSTER accounts USING accounts_created_at_idx;
```

## Good
```sql
-- Record the clustering index only (no rewrite, SHARE UPDATE EXCLUSIVE lock);
-- reorder the rows online with pg_repack --order-by or pg_squeeze.
ALTER TABLE accounts CLUSTER ON accounts_created_at_idx;
```

## When it does not fire
`ALTER TABLE … CLUSTER ON` and `SET WITHOUT CLUSTER`, which only change the catalog. A table
created earlier in the same migration is reported as info: it is small and nobody uses it yet.

## References
- https://www.postgresql.org/docs/current/sql-cluster.html
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
- https://reorg.github.io/pg_repack/
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import CLUSTER
from migguard.lint.context import LintContext, normalise
from migguard.lint.rule import Rule, Violation
from migguard.sql.shapes import Maintenance

HINT = "Reorder the table online with pg_repack (--order-by) or pg_squeeze instead."


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        command = statement.command
        if not (isinstance(command, Maintenance) and command.command == "cluster"):
            continue
        targets = [normalise(t) for t in command.targets if t]
        if targets:
            what = f"CLUSTER of {', '.join(targets)} rewrites the table in index order and rebuilds its indexes,"
        else:
            what = "CLUSTER without a table rewrites every previously clustered table of the database,"
        yield Violation(
            statement,
            f"{what} holding an {CLUSTER.describe()} until it ends.",
            HINT,
            new_object=bool(targets) and all(context.is_new_table(t, statement.index) for t in targets),
        )


RULE = Rule(
    id="ban-cluster",
    default_severity=Severity.ERROR,
    summary="CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
    family="locks",
    doc=__doc__,
    check=check,
    kinds=frozenset({"ClusterStmt"}),
)
