"""
## What it does
Refuses SQL that a migration runs but migguard cannot read, unless `--allow-destructive` is given:
an `EXECUTE` (also `FOR … IN EXECUTE`, `RETURN QUERY EXECUTE`, `OPEN … FOR EXECUTE`) in a `DO`
block or a function body whose string depends on a variable or a function call; a PL/pgSQL body
that does not parse; a `DO` block in a language migguard does not read (PL/Python, PL/v8 …); and
`EXECUTE name` of a prepared statement the migration does not define; and SQL nested more than
four levels deep (a DO block whose EXECUTE string is a DO block whose …).

## Why it is dangerous
What such SQL does is decided only when it runs: `EXECUTE format('TRUNCATE %I', t)` empties
whichever table `t` names, and no rule, reviewer or plan can tell which. The schema diff does not
see data a statement destroys either. So it is treated as destructive: the person applying it
says yes with `--allow-destructive`, once a backup exists.

## Bad
```sql
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'staging' LOOP
    EXECUTE format('TRUNCATE staging.%I', t);
  END LOOP;
END $$;
```

## Good
```sql
-- Name each object in plain SQL, where review and the other rules see it:
TRUNCATE staging.import_batches, staging.import_rows;
```

## When it does not fire
An `EXECUTE` string built only from constants: literals joined with `||`, `format()`,
`quote_ident()`, `quote_literal()`, `concat()`, casts to text and `CONSTANT` variables are folded
into the SQL they run, and that SQL is judged by the other rules as what it is (a folded
`'TRUNC' || 'ATE t'` is `ban-truncate`). Functions in other languages are searched by
`ban-destructive-code-block`. With `--allow-destructive` the finding is a warning and does not fail
the gate.

## References
- https://www.postgresql.org/docs/current/plpgsql-statements.html#PLPGSQL-STATEMENTS-EXECUTING-DYN
- https://www.postgresql.org/docs/current/sql-do.html
- https://www.postgresql.org/docs/current/sql-execute.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.rule import Rule, Violation
from migguard.sql.parse import MAX_NESTING, Statement, run_offset, runs_sql
from migguard.sql.shapes import CodeBlock, ExecutePrepared, Prepare

HINT = (
    "Write the statements out in plain SQL (or build the string from constants only), so review and the rules "
    "see what runs; if it must stay dynamic, apply it with --allow-destructive once a backup exists."
)

_READ = {"sql", "plpgsql"}
_NOT_SQL = {"c", "internal"}


def check(context: LintContext) -> Iterator[Violation]:
    prepared: set[str] = set()
    for statement in context.parsed():
        command = statement.command
        if statement.origin is not None and statement.origin.depth >= MAX_NESTING and runs_sql(command):
            yield Violation(statement, f"SQL nested {MAX_NESTING} levels deep runs more SQL, which migguard does "
                                       "not read, so what it does is not checked.", HINT)
            continue
        if isinstance(command, Prepare):
            prepared.add(command.name)
        elif isinstance(command, ExecutePrepared) and command.name not in prepared:
            yield Violation(statement, f"EXECUTE {command.name} runs a prepared statement this migration does not "
                                       "define, so what it does is not checked.", HINT)
        elif isinstance(command, CodeBlock):
            yield from _code_block(statement, command)


def _code_block(statement: Statement, block: CodeBlock) -> Iterator[Violation]:
    owner = "The DO block" if block.kind == "do" else f"{block.kind.capitalize()} {block.name}"
    when = "during the migration" if block.kind == "do" else "whenever it is called"
    language = block.language.lower()
    if block.unreadable is not None:
        yield Violation(statement, f"migguard cannot read the body of {owner[0].lower() + owner[1:]} "
                                   f"({block.unreadable}), so what it runs {when} is not checked.", HINT)
        return
    if block.runs is None:
        if block.kind == "do" and language not in _READ | _NOT_SQL:
            yield Violation(statement, f"The DO block is written in {block.language}, which migguard does not read, "
                                       "so the SQL it sends during the migration is not checked.", HINT)
        return
    body_at = statement.text.find(block.body) if block.body else -1
    for run in block.runs:
        if run.sql is not None:
            continue
        offset = body_at + run_offset(block.body, run.line, run.written) if body_at >= 0 else 0
        written = " ".join(run.written.split())
        written = written if len(written) <= 80 else written[:79] + "…"
        yield Violation(statement, f"{owner} runs SQL built at run time {when} (EXECUTE {written}): {run.why}, "
                                   "so what it does is not checked.", HINT, offset=offset)


RULE = Rule(
    id="ban-unreadable-dynamic-sql",
    default_severity=Severity.ERROR,
    summary="EXECUTE of a string built at run time (or code migguard cannot read): what it does is not checked",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
    kinds=frozenset({"DoStmt", "PrepareStmt", "ExplainStmt", "ExecuteStmt", "CreateFunctionStmt"}),
)
