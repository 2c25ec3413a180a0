"""
## What it does
Flags a migration or seed file in the project's write paths whose first line is not
`-- migguard:template feature` or `-- migguard:template seed`, the header `migguard new` writes.

## Why it is dangerous
The team's policy requires every migration to start from a template (`--template seed|feature`).
The templates carry the guards that keep a change safe: a `lock_timeout`, the non-blocking
pattern for each common change (CONCURRENTLY, NOT VALID + VALIDATE, SET NOT NULL through a CHECK)
and, for a new tenant table, row level security enabled, forced and keyed on the tenant setting.
A file written from scratch skipped that checklist; the header is how review and CI can tell.

## Bad
```sql
-- file: db/migrations/0012_add_invoice_totals.sql
ALTER TABLE invoices ADD COLUMN total_cents bigint;
```

## Good
```sql
-- file: db/migrations/0012_add_invoice_totals.sql
-- migguard:template feature
SET lock_timeout = '2s';
ALTER TABLE invoices ADD COLUMN total_cents bigint;
```

## When it does not fire
Files outside the write paths (`migration-outside-write-path` reports those), and every file
when there is no project configuration. Blank lines before the header are allowed. In a dbmate
file, lint sees the `-- migrate:up` section only, so the header goes on the line after
`-- migrate:up`, as `migguard new` writes it. A file without statements (comments only).
The finding is a warning rather than info because the policy makes the template a requirement
(`--strict` enforces it, warnings show up as CI annotations), and rather than an error because
the file's SQL itself may be perfectly safe: the other rules judge that. A project adopting
migguard with older migrations can set `missing-template-header = "info"` in
`[tool.migguard.rules]`, or gate only changed files (`migguard lint --changed-since`).

## References
- POLICY.md, Write Path Policies: Database Operations ("Template Required")
- migguard README, `migguard new NAME --template seed|feature`
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.templates import TEMPLATES, template_header
from migguard.lint.context import LintContext
from migguard.lint.rule import Rule, Violation


def check(context: LintContext) -> Iterator[Violation]:
    if not context.statements or context.write_path is None:
        return
    name = template_header(context.text)
    if name in TEMPLATES:
        return
    first = context.statements[0]
    paths = context.settings.write_paths  # (migrations, seeds)
    expected = "seed" if len(paths) > 1 and context.write_path == paths[1] else "feature"
    problem = (f"its header names template '{name}', which is not feature or seed" if name
               else "it does not start with a `-- migguard:template feature|seed` header")
    yield Violation(
        first,
        f"This file was not made from a team template: {problem}, so it may lack the lock timeout and the "
        "safe patterns the template carries.",
        f"Create it with `migguard new NAME --template {expected}` and move the SQL in, or check it against the "
        f"template and start it with `-- migguard:template {expected}`.",
        offset=-first.start,  # the finding is about the file: line 1, column 1
    )


RULE = Rule(
    id="missing-template-header",
    default_severity=Severity.WARNING,
    summary="A migration that does not start with the -- migguard:template feature|seed header",
    family="workflow",
    doc=__doc__,
    check=check,
)
