"""
## What it does
Flags a statement that sets `lock_timeout` or `statement_timeout` to `0` (off), switches it off
with `TO DEFAULT`, `RESET` or `RESET ALL`, or sets it above the configured ceiling: `SET`,
`SET LOCAL`, `SET SESSION` and `SELECT set_config('…', …)`. Values are read as PostgreSQL reads
them: a bare number is milliseconds; units `us`, `ms`, `s`, `min`, `h`, `d`; fractions round to
whole milliseconds (`'500us'` is 0, so off). A value migguard cannot read without running the
statement (`set_config('lock_timeout', current_setting('x'), false)`) is flagged too.

The ceiling is `max_lock_timeout` / `max_statement_timeout` when the configuration sets them,
else the configured `lock_timeout` / `statement_timeout` (defaults 2s and 15min). Why not only the
configured values: they are what `migguard apply` sets for every migration, and a migration may
lower them freely; a team that needs one long statement (a large `CREATE INDEX CONCURRENTLY`
wants more than 15min) raises the ceiling in one reviewed line of the configuration, instead of a
`SET` in one file that switches the protection off unseen. `migguard apply` enforces the same
ceiling itself and refuses such a migration before it runs, even when an ignore silences this rule.

## Why it is dangerous
`apply` protects production with a short `lock_timeout` (a statement waiting for a lock queues
every conflicting query behind it) and a `statement_timeout` (a runaway statement holds its locks
until it ends). A migration that sets either to 0, to DEFAULT (0 on most servers) or to hours
removes that protection for everything after it in the session: one long-running transaction in
front of an `ALTER TABLE` then stalls the application for as long as it runs. pg_dump output
starts with `SET statement_timeout = 0; SET lock_timeout = 0;` for this reason: it is not a
migration.

## Bad
```sql
SET lock_timeout = 0;
ALTER TABLE accounts ADD COLUMN note text;
```

## Good
```sql
SET lock_timeout = '1s';
ALTER TABLE accounts ADD COLUMN note text;
```

## When it does not fire
A value above 0 and at most the ceiling; `SET … FROM CURRENT` (keeps the value in force); other
parameters. Settings made inside a function or `DO` body, and `ALTER ROLE/DATABASE … SET`, are
not read by this rule. Tables created earlier in the migration make no difference.

## References
- https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
- https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
- https://www.postgresql.org/docs/current/config-setting.html#CONFIG-SETTING-NAMES-VALUES
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.session import above_ceiling, timeout_settings
from migguard.lint.context import LintContext
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.parse import Statement


def check(context: LintContext) -> Iterator[Violation]:
    ceilings = {"lock_timeout": context.settings.max_lock_timeout,
                "statement_timeout": context.settings.max_statement_timeout}
    for statement in context.parsed():
        for setting in timeout_settings(statement.text):
            ceiling = ceilings.get(setting.name, context.settings.max_lock_timeout)
            problem = above_ceiling(setting, ceiling)
            if problem is None:
                continue
            yield Violation(
                statement,
                f"This statement {problem}: the migration then runs without the protection migguard apply "
                f"gives it, and migguard apply refuses it.",
                _hint(setting.name, ceiling),
                offset=_setting_offset(statement, setting.name),
            )


def _setting_offset(statement: Statement, name: str) -> int:
    """Where the setting is named: `SET name …`, else the string constant naming it in set_config(…) (PostgreSQL's
    tree places a constant at its opening quote); the statement start for RESET ALL."""
    found = locate.words(statement, "{}", name)
    if found is None:
        found = locate.node_offset(statement, "A_Const", sval={"sval": name})
    return found or 0


def _hint(name: str, ceiling: str) -> str:
    if name not in ("lock_timeout", "statement_timeout"):
        return "Name lock_timeout or statement_timeout as a constant and give it a constant value within the ceiling."
    return (f"Set {name} to at most {ceiling} (the configured ceiling), or raise max_{name} in the configuration "
            f"if this migration really needs longer.")


RULE = Rule(
    id="ban-unbounded-timeout",
    default_severity=Severity.ERROR,
    summary="A migration switches lock_timeout or statement_timeout off, or sets it above the configured ceiling",
    family="locks",
    doc=__doc__,
    check=check,
)
