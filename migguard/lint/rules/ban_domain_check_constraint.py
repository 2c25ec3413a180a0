"""
## What it does
Flags `CREATE DOMAIN … CHECK (…)` and `ALTER DOMAIN … ADD CONSTRAINT … CHECK (…)` without
`NOT VALID`.

## Why it is dangerous
Adding a CHECK constraint to a domain validates it against every column of that domain in every
table: PostgreSQL scans each of those tables while holding a SHARE lock on it, which blocks
every write of the table (reads continue) until the scan ends. A domain created with a CHECK
commits the schema to that: its constraint can never be changed later without such a scan
(before PostgreSQL 19, `VALIDATE CONSTRAINT` takes the same SHARE lock), whereas a table's CHECK
constraint can be swapped online with `NOT VALID` and `VALIDATE`.

## Bad
```sql
ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
```

## Good
```sql
-- Check new values only now; validate existing ones in a later migration, at a quiet time.
ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%') NOT VALID;
```

## When it does not fire
`ALTER DOMAIN … ADD CONSTRAINT … NOT VALID`, `VALIDATE CONSTRAINT`, `NOT NULL` and `DEFAULT`
changes, and a `CREATE DOMAIN` without CHECK. `ALTER DOMAIN` of a domain created earlier in the
same migration is reported as info: no column uses it yet.

## References
- https://www.postgresql.org/docs/current/sql-createdomain.html
- https://www.postgresql.org/docs/current/sql-alterdomain.html
"""

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import SHARE
from migguard.lint.context import LintContext, normalise
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterDomain, Other


def check(context: LintContext) -> Iterator[Violation]:
    created: dict[str, int] = {}
    for statement in context.parsed():
        command = statement.command
        domain = _created_domain(statement)
        if domain is not None:
            name, constraints = domain
            created.setdefault(name, statement.index)
            if "check" in constraints:
                yield Violation(
                    statement,
                    f"Domain {name} is created with a CHECK constraint: tightening or replacing it later means "
                    f"ALTER DOMAIN … ADD CONSTRAINT, which scans every column of the domain in every table, holding "
                    f"on each table a {SHARE.describe()}.",
                    "Use the plain domain (or base type) and put the CHECK constraint on the table columns, where "
                    "ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT work online.",
                    offset=locate.words(statement, "check") or 0,
                )
        elif isinstance(command, AlterDomain) and command.subtype == "C" and command.constraint_type == "check":
            if command.not_valid:
                continue
            name = normalise(command.name)
            yield Violation(
                statement,
                f"Adding a CHECK constraint to domain {name} scans every column of that domain in every table, "
                f"holding on each table a {SHARE.describe()}, until its scan ends.",
                _hint(context.settings.pg_version),
                offset=locate.words(statement, "add") or 0,
                new_object=name in created,
            )


def _created_domain(statement: Statement) -> tuple[str, tuple[str, ...]] | None:
    command = statement.command
    if isinstance(command, Other) and command.node_type == "CreateDomainStmt" and "name" in command.details:
        return normalise(command.details["name"]), tuple(command.details.get("constraints", ()))
    return None


def _hint(pg_version: int) -> str:
    hint = ("Add it with NOT VALID, which checks only new values, and run ALTER DOMAIN … VALIDATE CONSTRAINT in a "
            "later migration")
    if pg_version >= 19:
        return hint + " (it takes only a SHARE UPDATE EXCLUSIVE lock)."
    return hint + f" at a quiet time (on PostgreSQL {pg_version} it still takes a SHARE lock while it scans)."


RULE = Rule(
    id="ban-domain-check-constraint",
    default_severity=Severity.ERROR,
    summary="A domain CHECK constraint is validated by scanning every column of the domain",
    family="locks",
    doc=__doc__,
    check=check,
    kinds=frozenset({"CreateDomainStmt", "AlterDomainStmt"}),
)
