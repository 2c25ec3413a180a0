"""
## What it does
Reports, as information, a statement that PostgreSQL accepts but migguard has no model for, so
no rule checked it. It is never silently skipped.

## Why it is dangerous
A gate that quietly ignores what it does not understand gives false confidence. The finding
tells the reviewer which statements need a human look.

## Bad
```sql
REASSIGN OWNED BY legacy_owner TO app_owner;
```

## Good
```sql
ALTER TABLE accounts OWNER TO app_owner;
```

## When it does not fire
Statements sqlglot parses to a typed tree, statements migguard recognises from PostgreSQL's
parse tree (RLS, policies, functions, DO blocks, enum changes, drops, renames, maintenance),
and statements with nothing to check (GRANT, COMMENT, SET, CREATE EXTENSION, …). What remains
are statements with consequences no rule models yet, such as `REASSIGN OWNED` (a new owner
bypasses row level security unless it is forced) and `ALTER SYSTEM` (server settings).

## References
- https://www.postgresql.org/docs/current/sql-commands.html
"""

from migguard.core.findings import Severity
from migguard.lint.rule import Rule

RULE = Rule(
    id="unanalysed-statement",
    default_severity=Severity.INFO,
    summary="a statement migguard could not analyse; no rule checked it",
    family="meta",
    doc=__doc__,
    check=None,
)
