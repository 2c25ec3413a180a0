"""
## What it does
Flags a linted migration file that is not under the project's write paths: the configured
`migrations` or `seeds` directory (`db/migrations/**`, `db/seeds/**` by default).

## Why it is dangerous
The team's policy allows database changes only in those two directories. A SQL file elsewhere
(`scripts/hotfix.sql`, `tmp/fix_prod.sql`) is outside the migration history: `migguard plan` never
replays it on the shadow, `apply` never records it, its rollback is never generated, and it tends
to be run by hand against production, which is the direct table modification the policy forbids.

## Bad
```sql
-- file: scripts/hotfix_invoice_totals.sql
ALTER TABLE invoices ADD COLUMN total_cents bigint;
```

## Good
```sql
-- file: db/migrations/0012_add_invoice_totals.sql
ALTER TABLE invoices ADD COLUMN total_cents bigint;
```

## When it does not fire
Without a project configuration (no `migguard.toml` or `[tool.migguard]` found): there are no
write paths to enforce. SQL read from standard input without `--stdin-filename`. Paths are
compared as given, with `..` folded, relative to the working directory; a file reached through
a symbolic link counts where its path says it is. The finding is a warning: the SQL may be fine,
it is its place that is wrong (`--strict` makes it fail the gate).

## References
- POLICY.md, Write Path Policies: Database Operations (`db/migrations/**`, `db/seeds/**`)
- migguard README, "Configuration" (`migrations`, `seeds`)
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.lint.context import LintContext
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    paths = context.settings.write_paths
    if not paths or not context.statements or not context.is_file or context.write_path is not None:
        return
    first = context.statements[0]
    yield Violation(
        first,
        f"This file is outside the write paths ({', '.join(paths)}): migrations and seeds are written only "
        "there, where review, plan and apply see them.",
        f"Move it into {paths[0]} (create it with `migguard new NAME --template feature`), or into "
        f"{paths[-1]} if it is seed data.",
        offset=-first.start,  # the finding is about the file: line 1, column 1
    )


RULE = Rule(
    id="migration-outside-write-path",
    default_severity=Severity.WARNING,
    summary="A migration file outside the configured migrations and seeds directories",
    family="workflow",
    doc=__doc__,
    check=check,
)
