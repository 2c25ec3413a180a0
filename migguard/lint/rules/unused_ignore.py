"""
## What it does
Reports a `-- migguard:ignore` or `ignore-file` comment that names an unknown rule id, or that
silences nothing.

## Why it is dangerous
A stale or misspelt ignore hides nothing today but will silently hide a real finding after the
next edit; an unknown id usually means a typo, so the finding it meant to silence still fires.

## Bad
```sql
-- migguard:ignore ban-trunacte -- typo in the id
SELECT 1;
```

## Good
```sql
SELECT 1;
```

## When it does not fire
An ignore that names a known rule and silences at least one of its findings.

## References
- migguard README, "Suppressing a finding"
"""

from migguard.core.findings import Severity
from migguard.lint.rule import Rule

RULE = Rule(
    id="unused-ignore",
    default_severity=Severity.WARNING,
    summary="an ignore comment names an unknown rule or silences nothing",
    family="meta",
    doc=__doc__,
    check=None,
)
