"""
## What it does
Reports a statement that PostgreSQL's own grammar rejects, with PostgreSQL's message and the
position of the offending token. The rest of the file is still linted.

## Why it is dangerous
A migration that does not parse fails at deploy time, usually halfway through a release, and
whatever ran before it in a non-transactional file stays applied. migguard checks syntax with
libpg_query (PostgreSQL's parser, through pglast), so it reports only what the server would
refuse — never a statement that merely confuses sqlglot.

## Bad
```sql
ALTER TABLE accounts ADD COLUMN note text
ALTER TABLE accounts ADD COLUMN flag boolean;
```

## Good
```sql
ALTER TABLE accounts ADD COLUMN note text;
ALTER TABLE accounts ADD COLUMN flag boolean;
```

## When it does not fire
Statements PostgreSQL accepts, even when sqlglot cannot parse them (they are analysed through
PostgreSQL's parse tree instead). psql meta-commands and template placeholders (`:VAR`,
`{{ … }}`) are not SQL and are reported.

## References
- https://www.postgresql.org/docs/current/sql-syntax.html
"""

from migguard.core.findings import Severity
from migguard.lint.rule import Rule

RULE = Rule(
    id="syntax-error",
    default_severity=Severity.ERROR,
    summary="PostgreSQL's grammar rejects this statement",
    family="meta",
    doc=__doc__,
    check=None,
)
