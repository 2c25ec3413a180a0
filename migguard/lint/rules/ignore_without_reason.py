"""
## What it does
Reports an ignore of a destructive rule that gives no reason (`-- migguard:ignore RULE -- reason`).
The destructive finding is not silenced until a reason is written.

## Why it is dangerous
Destructive statements lose data. The team's policy requires an explicit, reviewable decision;
a bare ignore is indistinguishable from a reflex.

## Bad
```sql
-- migguard:ignore ban-truncate
TRUNCATE import_staging;
```

## Good
```sql
-- migguard:ignore ban-truncate -- staging table, refilled by the nightly import
TRUNCATE import_staging;
```

## When it does not fire
Ignores of non-destructive rules, which need no reason, and ignores with a reason.

## References
- POLICY.md, Migration Safety
"""

from migguard.core.findings import Severity
from migguard.lint.rule import Rule

RULE = Rule(
    id="ignore-without-reason",
    default_severity=Severity.WARNING,
    summary="an ignore of a destructive rule has no reason, so it does not apply",
    family="meta",
    doc=__doc__,
    check=None,
)
