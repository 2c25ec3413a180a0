"""
## What it does
Refuses a `CREATE FUNCTION` / `CREATE PROCEDURE` whose body runs a statement that a destructive
rule refuses (`TRUNCATE`, `DELETE` or `UPDATE` of every row, `DROP TABLE`, `DROP COLUMN`, …),
unless `--allow-destructive` is given. The body is read with PostgreSQL's own PL/pgSQL parser: SQL
written in it, and `EXECUTE` strings built from constants (`'TRUNC' || 'ATE t'`, `format('DROP
TABLE %I', 'x')`), which are folded to the SQL they run. A body in another language (PL/Python,
PL/v8 …) is searched for the destructive statements it may send, and so is a `DO` block in one.

## Why it is dangerous
A function runs whenever someone calls it, long after the migration was reviewed, and the
statement-level rules do not look inside its body, so what it destroys escapes review. (A `DO`
block written in SQL or PL/pgSQL runs during the migration: its statements are judged by the
statement-level rules themselves, as what they are, and an `EXECUTE` string migguard cannot read
is `ban-unreadable-dynamic-sql`.)

## Bad
```sql
CREATE FUNCTION app.reset_demo() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE app.sessions;
  EXECUTE 'DELETE FROM ' || quote_ident('tokens');
END $$;
```

## Good
```sql
-- Remove only what must go, with a WHERE clause naming the rows:
CREATE FUNCTION app.expire_sessions() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM app.sessions WHERE expires_at < now();
END $$;
```

## When it does not fire
Statements on a table the same body creates first (a work table); `DELETE` / `UPDATE` with a real
`WHERE`; comments and messages (`RAISE 'cannot truncate …'`); C and internal functions; `DO`
blocks in SQL or PL/pgSQL (their statements are judged where they run, see above). With
`--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-createfunction.html
- https://www.postgresql.org/docs/current/plpgsql-statements.html#PLPGSQL-STATEMENTS-EXECUTING-DYN
- https://www.postgresql.org/docs/current/sql-do.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.parse import Statement, body_statements
from migguard.sql.shapes import CodeBlock

HINT = (
    "Write each destructive statement out in plain SQL in the migration, naming its objects, so review and "
    "the other rules see it; run it with --allow-destructive once a backup exists."
)

_NOT_SQL = {"c", "internal"}
_SQL = {"sql", "plpgsql"}
# Rules that judge a body's statements: the destructive statement rules, not the body-level ones.
_BODY_LEVEL = {"ban-destructive-code-block", "ban-unreadable-dynamic-sql"}


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        block = statement.command
        if not isinstance(block, CodeBlock) or block.language.lower() in _NOT_SQL or not block.body:
            continue
        if block.language.lower() not in _SQL:
            yield from _other_language(statement, block)
        elif block.kind != "do":
            yield from _function_body(context, statement, block)


def _function_body(context: LintContext, statement: Statement, block: CodeBlock) -> Iterator[Violation]:
    """The body's statements, judged by the destructive statement rules as if they ran here."""
    from migguard.lint.rules import (
        ALL_RULES,  # the registry imports this module: look it up when checking
    )

    inner = body_statements(statement)
    if not inner:
        return
    body = LintContext(context.path, inner, context.settings, surely_new=True)
    owner = f"{block.kind.capitalize()} {block.name}"
    reported: set[int] = set()  # one finding per body statement (DROP SCHEMA … CASCADE is two rules' case)
    for rule in ALL_RULES:
        if not rule.destructive or rule.check is None or rule.id in _BODY_LEVEL:
            continue
        body.kinds = rule.kinds  # dispatched as the engine does
        for violation in rule.check(body):
            found = violation.statement
            if violation.new_object or found.index in reported:  # a work table the body creates first
                continue
            reported.add(found.index)
            origin = found.origin
            how = " (as dynamic SQL)" if origin and origin.how.startswith("dynamic") else ""
            yield Violation(statement, f"{owner} runs `{_shown(found.text)}`{how} whenever it is called: "
                                       f"{violation.message}", HINT, offset=origin.offset if origin else 0)


def _shown(sql: str, limit: int = 80) -> str:
    line = " ".join(sql.split()).replace("`", "'")
    return line if len(line) <= limit else line[:limit - 1] + "…"


# --- bodies in other languages (PL/Python, PL/v8 …): searched for the SQL they may send ---------------

_NAME = r'(?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?'
_PATTERNS = {
    "DROP TABLE": re.compile(rf"\bdrop\s+table\b\s*(?:if\s+exists\s+)?{_NAME}", re.IGNORECASE),
    "DROP SCHEMA": re.compile(rf"\bdrop\s+schema\b\s*(?:if\s+exists\s+)?{_NAME}", re.IGNORECASE),
    "DROP DATABASE": re.compile(rf"\bdrop\s+database\b\s*(?:if\s+exists\s+)?{_NAME}", re.IGNORECASE),
    "DROP COLUMN": re.compile(rf"\bdrop\s+column\b\s*(?:if\s+exists\s+)?{_NAME}", re.IGNORECASE),
    "TRUNCATE": re.compile(rf"\btruncate\b(?!\s*\()\s*(?:table\s+)?(?:only\s+)?{_NAME}", re.IGNORECASE),
    "DELETE without WHERE": re.compile(r"\bdelete\s+from\b(?![^;'\"]*\bwhere\b)", re.IGNORECASE),
    "UPDATE without WHERE": re.compile(r"\bupdate\s+\S+\s+set\b(?![^;'\"]*\bwhere\b)", re.IGNORECASE),
}


def _other_language(statement: Statement, block: CodeBlock) -> Iterator[Violation]:
    body_at = statement.text.find(block.body)
    owner = "The DO block" if block.kind == "do" else f"{block.kind.capitalize()} {block.name}"
    when = "during the migration" if block.kind == "do" else "whenever it is called"
    for what, pattern in _PATTERNS.items():
        match = pattern.search(block.body)
        if match is None:
            continue
        if body_at >= 0:
            offset = body_at + match.start()
        else:  # written otherwise than its value (quotes doubled …): the tree places it at its AS (a DO's string)
            offset = locate.node_offset(statement, "DefElem", defname="as") or 0
        yield Violation(statement, f"{owner} runs {what} {when}, as SQL its {block.language} code sends, "
                                   "which the statement-level rules cannot see; the data it removes is lost.",
                        HINT, offset=offset)


RULE = Rule(
    id="ban-destructive-code-block",
    default_severity=Severity.ERROR,
    summary="A function body (or a DO block in another language) runs TRUNCATE, DROP or an unfiltered DELETE/UPDATE",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"DoStmt", "CreateFunctionStmt"}),
)
