"""
## What it does
In a migration that contains a `CONCURRENTLY` statement (`CREATE INDEX`, `DROP INDEX`, `REINDEX`
or `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`), flags every statement that is not one of:
- another `CONCURRENTLY` statement;
- a session setting: `SET`, `RESET`, `SELECT set_config(…)` (nothing of it stays in the database);
- `ANALYZE`, or `VACUUM` without `FULL` (maintenance: no schema or row changes);
- `COMMENT ON …` (setting the same comment twice is harmless);
- transaction control (`BEGIN`, `COMMIT`, …; `ban-concurrently-in-transaction` covers the block).

Everything else is flagged: data changes (`INSERT`, `UPDATE`, `DELETE`, `MERGE`, `COPY`,
`TRUNCATE`), any other DDL (also `… IF NOT EXISTS`: it still changes the schema), `GRANT`,
`DO` blocks, `CALL`, and `SELECT`s that call other functions.

## Why it is dangerous
PostgreSQL refuses `CONCURRENTLY` inside a transaction block, so migguard runs such a file
statement by statement, each committed on its own. When a later statement fails (a lock timeout
that outlasts the retries, a duplicate key while building a unique index), the statements before
it stay applied while the migration is not recorded as applied: a seed row is in production, a
column added, and the schema is neither before nor after the migration. migguard records each
statement's progress and resumes at the failed one, but the half-applied state is live until
then, and an undo of a data change must be written by hand. A migration with a concurrent index
should hold only that index (squawk and strong_migrations give the same advice): what has to be
atomic belongs to a migration of its own, which runs in one transaction.

## Bad
```sql
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
INSERT INTO plans (name) VALUES ('free');
```

## Good
```sql
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
ANALYZE accounts;
```

## When it does not fire
A migration without a `CONCURRENTLY` statement (it runs in one transaction); the statements
listed above; `REFRESH MATERIALIZED VIEW CONCURRENTLY`, which PostgreSQL runs in a transaction
and which does not make migguard run the file statement by statement. Tables created earlier in
the migration make no difference.

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
- https://github.com/ankane/strong_migrations#adding-an-index-non-concurrently
- https://squawkhq.com/docs/require-concurrent-index-creation
"""

from __future__ import annotations

from collections.abc import Iterator

import pglast
from pglast import ast

from migguard.core.findings import Severity
from migguard.core.session import is_session_setting
from migguard.lint.context import LintContext, is_transaction_end, is_transaction_start
from migguard.lint.rule import Rule, Violation
from migguard.sql.parse import Statement

HINT = ("Move it into a migration of its own, which migguard runs in one transaction; keep only the CONCURRENTLY "
        "statement(s), session settings, ANALYZE and comments in this one.")
_DATA = {"InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE", "MergeStmt": "MERGE",
         "CopyStmt": "COPY", "TruncateStmt": "TRUNCATE"}


def check(context: LintContext) -> Iterator[Violation]:
    if not context.has_concurrently:
        return
    for statement in context.parsed():
        if statement.runs_concurrently or is_transaction_start(statement) or is_transaction_end(statement):
            continue
        if is_session_setting(statement.text):
            continue
        node = _node(statement)
        if _harmless(node):
            continue
        what = _what(statement, node)
        effect = "its rows stay written" if type(node).__name__ in _DATA else "its change stays applied"
        yield Violation(
            statement,
            f"{what} in a migration with CONCURRENTLY: migguard runs such a file statement by statement, each "
            f"committed on its own, so when a later statement fails {effect} while the migration is not recorded "
            f"as applied.",
            HINT,
        )


def _node(statement: Statement) -> ast.Node | None:
    try:
        parsed = pglast.parse_sql(statement.text)
    except pglast.parser.ParseError:
        return None
    return parsed[0].stmt if len(parsed) == 1 else None


def _harmless(node: ast.Node | None) -> bool:
    """ANALYZE, VACUUM without FULL, COMMENT ON, SAVEPOINT and friends."""
    if isinstance(node, ast.VacuumStmt):
        return not any(isinstance(o, ast.DefElem) and o.defname == "full" for o in node.options or ())
    return isinstance(node, ast.CommentStmt | ast.TransactionStmt)


def _what(statement: Statement, node: ast.Node | None) -> str:
    name = type(node).__name__
    if name in _DATA:
        return _DATA[name]
    words = statement.text.split()
    upper = [w.upper() for w in words[:4]]
    if upper and upper[0] in ("CREATE", "ALTER", "DROP"):
        for end, word in enumerate(upper[1:], start=2):
            if word not in ("OR", "REPLACE", "UNIQUE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL"):
                return " ".join(upper[:end])
    return upper[0] if upper else "This statement"


RULE = Rule(
    id="ban-mixing-concurrently",
    default_severity=Severity.ERROR,
    summary="A migration with CONCURRENTLY holds statements that stay applied when a later one fails",
    family="hygiene",
    doc=__doc__,
    check=check,
)
