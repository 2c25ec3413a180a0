"""The findings of `migguard scan-app`, documented like the static rules.

`migguard scan-app` (`migguard.scan.scanner`) reads application code, not migrations; its ids are
listed by `migguard rules` (family `app-scan`), printed by `migguard explain RULE`, and accepted
by `[tool.migguard.rules]` like every other id.

Every entry's `doc` has the sections of a static rule's docs. Bad and Good are fenced blocks of
application code (```python, ```ts, ```sql, or ```text for a `.migguard-allow` file) whose first
line is a comment naming the file (`# app/bookings.py`, `// server/routes/bookings.ts`,
`-- queries/bookings.sql`); the rest of that line may say more. The examples assume the monitored
tables `bookings` and `invoices` (`EXAMPLE_TABLES`, e.g. `--tables bookings,invoices`) with the
default tenant column `tenant_id`. tests/scan/test_scan_rules.py writes each section's files to an
empty directory and runs the scan on it: Bad reports the id, Good reports nothing at all.

The ids and severities match what `migguard.scan.scanner` reports (the test checks it); they join
the one registry of finding ids as `FINDINGS` (`migguard.core.finding_ids`). This module imports
nothing heavy: config validation loads it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from migguard.core.finding_ids import FindingKind, FindingProvider
from migguard.core.findings import Severity

FAMILY = "app-scan"
SECTIONS = ("What it does", "Why it is dangerous", "Bad", "Good", "When it does not fire", "References")
EXAMPLE_TABLES = ("bookings", "invoices")


def _scan(rule_id: str, severity: Severity, summary: str, doc: str) -> FindingKind:
    """A scan-app finding id; none is a destructive-change rule."""
    return FindingKind(rule_id, severity, summary, FAMILY, "scan", doc)


class Example(NamedTuple):
    """One fenced block of a Bad or Good section: its language, the file it is, and its text."""

    language: str
    path: str
    text: str


_FENCE = re.compile(r"^```(\w+)\n(.*?)\n```$", re.MULTILINE | re.DOTALL)
_FILE_COMMENT = re.compile(r"^(?:#|//|--)\s*(\S+)")


def examples(doc: str, section: str) -> list[Example]:
    """The fenced blocks of a doc section ("Bad" or "Good"); ValueError when there is none, or when a
    block's first line is not a comment naming its file."""
    match = re.search(rf"^## {section}\n(.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL)
    if match is None:
        raise ValueError(f"no section {section!r}")
    found = []
    for language, text in _FENCE.findall(match.group(1)):
        name = _FILE_COMMENT.match(text)
        if name is None:
            raise ValueError(f"section {section!r}: a ```{language} block does not start with a comment "
                             "naming its file")
        found.append(Example(language, name.group(1), text + "\n"))
    if not found:
        raise ValueError(f"section {section!r} has no fenced block")
    return found


def _doc(what: str, why: str, bad: str, good: str, quiet: str, references: tuple[str, ...]) -> str:
    links = "\n".join(f"- {link}" for link in references)
    return (f"## What it does\n{what.strip()}\n\n## Why it is dangerous\n{why.strip()}\n\n"
            f"## Bad\n{bad.strip()}\n\n## Good\n{good.strip()}\n\n"
            f"## When it does not fire\n{quiet.strip()}\n\n## References\n{links}\n")


RLS_DOCS = "https://www.postgresql.org/docs/current/ddl-rowsecurity.html"
OWASP_IDOR = ("https://cheatsheetseries.owasp.org/cheatsheets/"
              "Insecure_Direct_Object_Reference_Prevention_Cheat_Sheet.html")
OWASP_ACCESS = "https://owasp.org/Top10/A01_2021-Broken_Access_Control/"

_TENANT_FILTER = _doc(
    what="""
Finds the SQL of the application: `.sql` files (split into statements), and string literals of
Python, TypeScript / JavaScript and Go that start with SELECT, UPDATE, DELETE, INSERT or WITH and
parse as SQL (placeholders `%s`, `%(name)s`, `?`, `:name`, `{name}` and `${…}` fields are read as
parameters). Every SELECT, UPDATE and DELETE (the statement, each subquery, each CTE body) must
constrain each monitored table it reads or writes: a condition of its WHERE (or of an inner join's
ON) compares the table's tenant column with `=`, `IN`, `= ANY(…)` or `IS NOT DISTINCT FROM` to a
value, or to the tenant column of a table that is constrained itself. An INSERT whose column list
lacks the tenant column is reported too. The message names the table and what a user could do
(read, update, delete or insert rows of another tenant).

Monitored tables are those with the tenant column (`tenant_column`) in the `--schema` snapshot
and/or named by `--tables`; with neither, those the configured migrations create with it.
""",
    why="""
Row level security is the last line of defence, and often not in force for the application: the
table has no policy yet, the application connects as the table owner or a BYPASSRLS role, or a
background job uses another connection. Then the WHERE clause is the only thing that keeps one
tenant's request inside its own rows. A lookup by id alone lets a user of one tenant read another
tenant's rows by guessing or enumerating ids (an insecure direct object reference); an UPDATE or
DELETE by id changes or destroys them. An INSERT that does not set the tenant column creates a row
that belongs to no tenant, or to whatever the default says. Filtering explicitly also lets
PostgreSQL use the `(tenant_id, …)` indexes multi-tenant tables are built around.
""",
    bad="""
```python
# app/bookings.py
def cancel_booking(cur, booking_id):
    cur.execute("UPDATE bookings SET status = 'cancelled' WHERE id = %s", (booking_id,))
```

```sql
-- queries/invoices.sql (sqlc-style query file)
SELECT * FROM invoices WHERE number = $1;
```
""",
    good="""
```python
# app/bookings.py
def cancel_booking(cur, tenant_id, booking_id):
    cur.execute(
        "UPDATE bookings SET status = 'cancelled' WHERE tenant_id = %s AND id = %s",
        (tenant_id, booking_id),
    )
```

```sql
-- queries/invoices.sql (sqlc-style query file)
SELECT i.* FROM invoices i
JOIN bookings b ON b.id = i.booking_id AND b.tenant_id = i.tenant_id
WHERE i.tenant_id = $1 AND i.number = $2;
```
""",
    quiet="""
Tables that are not monitored (no tenant column); a table tied by its tenant column to a constrained
one (`JOIN … ON s.tenant_id = b.tenant_id`, `USING (tenant_id)`, a correlated subquery), or joined
to the tenant registry pinned on one of its own columns (`JOIN tenants t ON t.id = b.tenant_id
WHERE t.slug = $1`); an INSERT without a column list (every column is given). Strings that do not
start with a statement keyword, or that PostgreSQL's grammar rejects (UI text such as "Select a
plan"; counted as `sql_unparsed` in the summary), docstrings and other bare strings, comments,
and files under the configured migrations and seeds directories (`migguard lint` checks those),
`node_modules`, `vendor`, build output and virtualenvs. A line or file in `.migguard-allow`.
""",
    references=(RLS_DOCS, OWASP_IDOR, OWASP_ACCESS),
)

_ORM_FILTER = _doc(
    what="""
In TypeScript and JavaScript, reads Drizzle-style query builder calls on monitored tables (named in
snake_case, camelCase or PascalCase): `eq(table.column, …)` on a column other than the tenant
column, with no `tenantId` (or `tenant_id`) anywhere in the enclosing statement, and
`table.findFirst(…)` / `table.findMany(…)` (as in `db.query.bookings.findMany()`) with no
`tenantId` in their argument list. The statement runs from the previous `;`, block `{` or line
break that ends a statement to the next one, so a chain split over several lines is one
statement. One finding per statement and table.
""",
    why="""
An ORM hides the SQL, not the missing filter: `where(eq(bookings.id, id))` with an id from the
request is the classic insecure direct object reference. A user of one tenant passes the id of
another tenant's booking and reads it, or changes it through the same `where` on an update.
Unless row level security is enforced for the role the application connects as, nothing else
stops it.
""",
    bad="""
```ts
// server/routes/bookings.ts
export async function getBooking(req: Request, id: number) {
  const [booking] = await db.select().from(bookings).where(eq(bookings.id, id));
  const unpaid = await db.query.invoices.findMany({ where: eq(invoices.bookingId, id) });
  return { booking, unpaid };
}
```
""",
    good="""
```ts
// server/routes/bookings.ts
export async function getBooking(req: Request, id: number) {
  const [booking] = await db
    .select()
    .from(bookings)
    .where(and(eq(bookings.id, id), eq(bookings.tenantId, req.tenantId)));
  const unpaid = await db.query.invoices.findMany({
    where: and(eq(invoices.bookingId, id), eq(invoices.tenantId, req.tenantId)),
  });
  return { booking, unpaid };
}
```
""",
    quiet="""
`tenantId` or `tenant_id` appears in the statement (for findFirst/findMany: in its argument),
in code or in a string but not in a comment; the check is textual and trusts that it is compared
with the caller's tenant. Tables that are not monitored; `eq` on the tenant column itself; calls
inside comments and strings. A statement with an unscoped `.delete(table)` is reported as
`orm-unscoped-delete` instead. Python and Go ORMs are not read (their SQL strings are, by
`tenant-filter-missing`). A line or file in `.migguard-allow`.
""",
    references=("https://orm.drizzle.team/docs/operators", "https://orm.drizzle.team/docs/rqb", OWASP_IDOR),
)

_ORM_DELETE = _doc(
    what="""
In TypeScript and JavaScript, reports `.delete(table)` (`db.delete(bookings)`,
`tx.delete(schema.invoices)`) on a monitored table when its statement has no `tenantId` (or
`tenant_id`), in files whose path does not contain `/admin/` or `super-admin`. It wins over the
`eq`/`findFirst`/`findMany` checks: `db.delete(t).where(eq(t.id, id))` is one finding.
""",
    why="""
A delete scoped only by an id from the request lets a user of one tenant delete another tenant's
rows by passing their id, and a deleted row has no undo short of restoring a backup. Deletes are
the one place where a missing tenant filter destroys data instead of exposing it.
""",
    bad="""
```ts
// server/routes/bookings.ts
router.delete("/bookings/:id", async (req, res) => {
  await db.delete(bookings).where(eq(bookings.id, Number(req.params.id)));
  res.status(204).end();
});
```
""",
    good="""
```ts
// server/routes/bookings.ts
router.delete("/bookings/:id", async (req, res) => {
  await db
    .delete(bookings)
    .where(and(eq(bookings.id, Number(req.params.id)), eq(bookings.tenantId, req.tenantId)));
  res.status(204).end();
});
```
""",
    quiet="""
Files under an `/admin/` directory or with `super-admin` in their path (operator tools that act
across tenants); statements that mention `tenantId` or `tenant_id` in code or strings; a first
argument that is not a monitored table (an Express `router.delete("/path", …)`, `cache.delete(key)`);
calls inside comments and strings. A line or file in `.migguard-allow`.
""",
    references=("https://orm.drizzle.team/docs/delete", OWASP_IDOR, OWASP_ACCESS),
)

_UNUSED_ENTRY = _doc(
    what="""
After the scan, reports each entry of the allowlist (`.migguard-allow`, or `--allowlist FILE`)
that silenced nothing, at its line in the allowlist: a `path:line` entry whose file was scanned
but has no finding whose lines cover that line, a `path:` entry whose scanned file has no finding
at all, or an entry naming a file that does not exist. It is a warning: it does not fail the gate.
""",
    why="""
An allowlist entry is an exception to tenant isolation, reviewed once for one query. When that
query is fixed, moved or deleted, a stale `path:line` entry stays armed: the next query edited
onto that line (or anything in a `path:` file) is silenced without anyone reviewing it, which is
exactly the hole the scan exists to catch. An entry for a renamed file silently stops covering
the query it was written for.
""",
    bad="""
```text
# .migguard-allow
server/routes/bookings.ts:3   # the update by id (since fixed: it now filters on tenantId)
```

```ts
// server/routes/bookings.ts
export async function cancel(tenantId: string, id: number) {
  await db
    .update(bookings)
    .set({ status: "cancelled" })
    .where(and(eq(bookings.id, id), eq(bookings.tenantId, tenantId)));
}
```
""",
    good="""
```text
# .migguard-allow
# The nightly retention job purges expired invoices of every tenant (reviewed in #412).
jobs/purge_invoices.py:4
```

```python
# jobs/purge_invoices.py
def purge_expired_invoices(cur):
    # Runs once for all tenants, as the maintenance role.
    cur.execute("DELETE FROM invoices WHERE expires_at < now() - interval '7 years'")
```
""",
    quiet="""
Entries that silence at least one finding; entries for files that exist but were not scanned in
this run (scanning `src/api` leaves the entries for `src/jobs` alone); comments and blank lines.
A malformed entry (no `:`, a line that is not a positive number) is not this finding: it stops
the scan with a usage error (exit 2) naming the allowlist line.
""",
    references=("https://eslint.org/docs/latest/use/command-line-interface#--report-unused-disable-directives",
                "https://mypy.readthedocs.io/en/stable/config_file.html#confval-warn_unused_ignores"),
)

_UNSCANNED = _doc(
    what="""
Reports, at line 1 and as `info`, a source file the scan could not analyse: a file that is not
valid UTF-8, one larger than 2 MB (usually generated or bundled code), or Python that holds a
quote followed by a statement keyword but does not parse with the running interpreter's `ast`
(Python 2, a syntax error, syntax newer than the interpreter). The scan goes on with the other
files.
""",
    why="""
A passing scan says that no query on a tenant table lacks its tenant filter, but only for the
files it could read. A file it skipped may hold exactly such a query; reporting it keeps the gap
visible, so that someone checks that file's queries by hand or makes it readable (converts it to
UTF-8, ports it to Python 3, excludes generated code from the scanned paths).
""",
    bad="""
```python
# app/legacy_report.py (Python 2: does not parse as Python 3)
def bookings_count(cur, tenant_id):
    cur.execute("SELECT count(*) FROM bookings WHERE tenant_id = %s", (tenant_id,))
    print "counted bookings for", tenant_id
    return cur.fetchone()[0]
```
""",
    good="""
```python
# app/legacy_report.py
def bookings_count(cur, tenant_id):
    cur.execute("SELECT count(*) FROM bookings WHERE tenant_id = %s", (tenant_id,))
    print("counted bookings for", tenant_id)
    return cur.fetchone()[0]
```
""",
    quiet="""
Files the scan reads: TypeScript, JavaScript and Go are read by a lexer that never fails, and a
Python file without a quote followed by SELECT, UPDATE, DELETE, INSERT or WITH is not parsed at
all (it can hold no SQL string). Files the scan does not look at are not reported either: other
file types, `*.d.ts`, `*.min.js`, hidden directories, `node_modules`, `vendor`, build output,
virtualenvs, and the migrations and seeds directories.
""",
    references=("https://docs.python.org/3/library/ast.html#ast.parse", "https://peps.python.org/pep-3120/"),
)


SCAN_RULES: tuple[FindingKind, ...] = tuple(sorted([
    _scan("tenant-filter-missing", Severity.ERROR,
          "SQL in application code reads or writes a tenant table without filtering on the tenant column",
          _TENANT_FILTER),
    _scan("orm-tenant-filter-missing", Severity.ERROR,
          "an ORM query (eq, findFirst, findMany) on a tenant table has no tenantId in its statement",
          _ORM_FILTER),
    _scan("orm-unscoped-delete", Severity.ERROR,
          "an ORM delete() on a tenant table has no tenantId, outside admin routes", _ORM_DELETE),
    _scan("unused-allowlist-entry", Severity.WARNING,
          "a .migguard-allow entry silences nothing, or names a file that does not exist", _UNUSED_ENTRY),
    _scan("unscanned-file", Severity.INFO,
          "a source file scan-app could not analyse (not UTF-8, over 2 MB, or Python that does not parse)",
          _UNSCANNED),
], key=lambda rule: rule.id))
FINDINGS = FindingProvider(origin="scan", families=(FAMILY,), kinds=SCAN_RULES)
