"""
## What it does
Flags a migration that changes one existing table with several `ALTER TABLE` statements in a row
that could be one; the finding is on the second statement and gives the count.

## Why it is dangerous
Each `ALTER TABLE` takes the table's lock (usually ACCESS EXCLUSIVE, which blocks every read and
write) and may scan or rewrite the whole table on its own: two type changes rewrite it twice, two
`SET NOT NULL` scan it twice. Outside a transaction each statement also queues for the lock again,
behind whatever traffic arrived meanwhile. One `ALTER TABLE` with comma-separated actions takes
the lock once and does all its scanning and rewriting in one pass.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN plan text;
ALTER TABLE accounts ADD COLUMN trial_ends_at timestamptz;
```

## Good
```sql
ALTER TABLE accounts
    ADD COLUMN plan text,
    ADD COLUMN trial_ends_at timestamptz;
```

## When it does not fire
Statements that cannot join a list of actions (`RENAME`, `SET SCHEMA`, `ATTACH` / `DETACH
PARTITION`) or that take only a weak lock (`VALIDATE CONSTRAINT`, `SET (storage_parameter …)`).
Two `ALTER TABLE`s separated by a statement that must run between them (an `UPDATE`, `INSERT` or
`DELETE` of the table, a `CREATE INDEX` on it, a `DO` block) or by a `COMMIT`. Tables created
earlier in the same migration: nobody waits on them.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
- https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext, table_name
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation
from migguard.sql import nodes
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import CodeBlock

HINT = ("Merge them into one ALTER TABLE with comma-separated actions, so PostgreSQL takes the lock once and scans "
        "or rewrites the table at most once.")


def check(context: LintContext) -> Iterator[Violation]:
    transactions = ddl.transaction_ids(context)
    open_runs: dict[str, list[ddl.TableLock]] = {}
    runs: list[list[ddl.TableLock]] = []
    for statement in context.parsed():
        # A statement that must run between two ALTER TABLEs ends the run: a DO block, DML of the table.
        if statement.node_kind == "DoStmt" and isinstance(statement.command, CodeBlock) \
                and statement.command.kind == "do":
            open_runs.clear()
        dml = _dml_table(statement, open_runs) if open_runs else None
        if dml:
            open_runs.pop(dml, None)
        for lock in ddl.locks_of(context, statement):
            if not lock.table:
                continue
            mergeable = lock.alter and lock.lock.strong and not lock.referenced and not ddl.is_new_target(context, lock)
            run = open_runs.get(lock.table)
            if run and run[-1].statement is statement:
                continue  # a self-referencing foreign key: the statement's own lock on the table
            if run and (not mergeable or transactions[run[-1].statement.index] != transactions[statement.index]):
                del open_runs[lock.table]  # something else happens to the table in between, or a COMMIT does
                run = None
            if not mergeable:
                continue
            if run is None:
                run = open_runs[lock.table] = []
                runs.append(run)
            run.append(lock)
    for run in runs:
        if len(run) < 2:
            continue
        first, second = run[0], run[1]
        why = ("each may scan or rewrite the table again while the lock is held"
               if transactions[first.statement.index] is not None
               else "each queues for the lock again and may scan or rewrite the table again")
        yield Violation(
            second.statement,
            f"{len(run)} separate ALTER TABLE statements change {first.table} in this migration (the first is at "
            f"line {first.statement.line}): {why}.",
            HINT,
        )


# PostgreSQL's node kinds of the statements sqlglot reads as UPDATE, INSERT, DELETE or MERGE.
_WRITE_KINDS = frozenset({"UpdateStmt", "InsertStmt", "DeleteStmt", "MergeStmt"})


def _dml_table(statement: Statement, open_runs: dict[str, list[ddl.TableLock]]) -> str | None:
    """The table a write changes, where it may end one of the open runs (sqlglot need not read the others)."""
    if statement.node_kind not in _WRITE_KINDS or not nodes.may_name(statement.node, statement.text, open_runs):
        return None
    tree = statement.ast
    if isinstance(tree, exp.Update | exp.Insert | exp.Delete | exp.Merge):
        return table_name(tree.this)
    return None


RULE = Rule(
    id="prefer-single-alter-table",
    default_severity=Severity.WARNING,
    summary="Several ALTER TABLE statements of one table take its lock and scan it several times",
    family="locks",
    doc=__doc__,
    check=check,
)
