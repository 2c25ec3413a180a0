"""
## What it does
Flags `ALTER TABLE … ADD CONSTRAINT … EXCLUDE` on an existing table.

## Why it is dangerous
PostgreSQL builds the constraint's index and checks every existing row against every other while
it holds an ACCESS EXCLUSIVE lock, which blocks every read and write of the table until the build
ends: minutes to hours on a large table. Unlike a CHECK or a foreign key, an exclusion constraint
cannot be added `NOT VALID` and validated later, and unlike UNIQUE it cannot be attached
`USING INDEX` to an index built `CONCURRENTLY`: there is no online way to add one.

## Bad
```sql
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
```

## Good
```sql
-- Declare it when the table is created, while the table is empty:
CREATE TABLE bookings (
    room_id bigint NOT NULL,
    during tstzrange NOT NULL,
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&)
);
```

## When it does not fire
`CREATE TABLE` with an `EXCLUDE` constraint, and a table created earlier in the same migration
(reported as info: it has no rows and nobody waits on it). On an existing table, add the
constraint in a maintenance window and silence this rule with a reason.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT
- https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-EXCLUSION
- https://kaveland.no/eugene/hints/E8/index.html
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext, display
from migguard.lint.facts import ddl
from migguard.lint.rule import Rule, Violation

HINT = ("There is no online form (no NOT VALID, no USING INDEX): add the exclusion constraint when the table is "
        "created, or in a maintenance window with a short lock_timeout, silencing this rule with a reason.")


def check(context: LintContext) -> Iterator[Violation]:
    for constraint in ddl.added_constraints(context):
        if constraint.kind != "exclusion":
            continue
        named = f" {display(constraint.name)}" if constraint.name else ""
        yield Violation(
            constraint.statement,
            f"Adding exclusion constraint{named} to {display(constraint.table)} builds its index and checks every "
            f"row under an {ACCESS_EXCLUSIVE.describe()} until the build ends; it cannot be added NOT VALID.",
            HINT,
            offset=constraint.offset,
            new_object=context.is_new_table(constraint.table, constraint.statement.index),
        )


RULE = Rule(
    id="ban-add-exclusion-constraint",
    default_severity=Severity.ERROR,
    summary="ADD CONSTRAINT … EXCLUDE builds its index under ACCESS EXCLUSIVE and cannot be NOT VALID",
    family="locks",
    doc=__doc__,
    check=check,
)
