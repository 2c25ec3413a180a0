"""The findings of `migguard plan`'s database steps, documented like the static rules.

`migguard plan` (and `status`, `apply`, which run its steps) reports these ids from a real
database: drift, the history's replay, the clone's lock and rewrite trace, the data pre-checks,
watched query plans, the rollback's verification and the down scripts. Bad and Good describe the
situation in SQL comments and show the migration SQL that triggers the finding and its safe
version. They join the one registry of finding ids as `FINDINGS` (`migguard.core.finding_ids`);
this module imports nothing heavy: config validation loads it.
"""

from __future__ import annotations

from migguard.core.finding_ids import PG_DOCS, FindingKind, FindingProvider
from migguard.core.finding_ids import finding_doc as _doc
from migguard.core.findings import Severity

_PG = PG_DOCS
CONSTRAINTS = _PG + "ddl-constraints.html"
ALTER_TABLE = _PG + "sql-altertable.html"
LOCKING = _PG + "explicit-locking.html"
CREATE_INDEX = _PG + "sql-createindex.html"
EXPLAIN = _PG + "using-explain.html"

# --- plan -------------------------------------------------------------------------------------------

_PLAN: dict[str, tuple[Severity, str, str]] = {}  # id -> (default severity, summary, doc)

_PLAN["schema-drift"] = (Severity.ERROR, "production's schema differs from the replayed applied migrations "
                                         "(warning with --accept-drift)", _doc(
    what="""
`migguard plan` replays the applied migrations from zero on a shadow database and compares the
result with production's schema (`pg_dump --schema-only`, introspected). Each difference — an
object added, dropped or changed by hand, or by a migration whose file was since changed — is
reported, and refuses the plan unless `--accept-drift` is given (then it is a warning).
""",
    why="""
The plan, its pre-checks and its rollback are computed against the schema the migrations say
production has. When production differs, a migration can fail halfway through, a rollback can
drop an object nobody knew about, and the next environment built from the migrations will not
match production.
""",
    bad="""
-- Someone ran this by hand on production during an incident; no migration contains it.
ALTER TABLE users ADD COLUMN nickname text;
""",
    good="""
-- Every schema change is a migration file, applied with migguard. To adopt a hand-made change,
-- record it in a migration (IF NOT EXISTS: a no-op where it already exists), plan that one
-- migration with --accept-drift, and apply it: from then on the history matches production.
ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;
""",
    quiet="""
Without a production URL (`--base REF` or no target): the replayed history stands for production.
Objects in migguard's own history schema are ignored.
""",
    references=(_PG + "app-pgdump.html",),
))

_PLAN["checksum-mismatch"] = (Severity.ERROR, "an applied migration's file was edited after it ran in production",
                              _doc(
    what="""
Compares the checksum of every migration file with the checksum recorded in production's history
table when it was applied, and reports each applied migration whose file changed since.
""",
    why="""
An applied migration never runs again, so an edit to it reaches no existing database: production
keeps the old version while new environments get the new one, and the two drift apart silently.
The history no longer says what production ran.
""",
    bad="""
-- 0003_orders.sql ran in production as: CREATE TABLE orders (id bigint PRIMARY KEY);
-- and was then edited in place:
CREATE TABLE orders (id bigint PRIMARY KEY, note text);
""",
    good="""
-- 0003_orders.sql stays as it was applied; the change is a new migration, 0010_orders_note.sql:
ALTER TABLE orders ADD COLUMN note text;
""",
    quiet="""
Without a production URL (no history to compare with); migrations recorded in the history that
have no file any more; pending migrations.
""",
    references=(_PG + "ddl-alter.html",),
))

_PLAN["partial-migration-edited"] = (Severity.ERROR, "a migration that ran part way in production was edited "
                                                       "since", _doc(
    what="""
A statement-by-statement (CONCURRENTLY) migration that failed part way has its committed
statements recorded in production's progress table (`<history_table>_progress`), each with the
hash of its text. `migguard plan` compares each recorded statement with the file's statement at
that number and reports every one that differs or is gone, and progress rows of a version that is
not a pending migration file.
""",
    why="""
The plan replays the recorded statements and skips them on the clone, so that a resumed apply runs
only the rest. When the file no longer holds what ran, the plan would prove a migration production
never ran; the runner refuses to resume it for the same reason.
""",
    bad="""
-- 0007_indexes.sql ran statement 1 in production, then failed at statement 2; statement 1 was
-- then edited in place:
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id, created_at);
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
""",
    good="""
-- 0007_indexes.sql stays as it ran; apply resumes at statement 2:
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
""",
    quiet="""
Without a production URL; migrations that ran whole (the history lists them, their progress rows
are gone); part-way migrations whose recorded statements are the file's.
""",
    references=(_PG + "sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",),
))

_PLAN["migration-fails"] = (Severity.ERROR, "a pending migration fails on a copy of production's schema", _doc(
    what="""
Applies the pending migrations, one by one, to a shadow clone of production's schema, and reports
the first one that fails, with PostgreSQL's error. The plan stops there and nothing touches
production.
""",
    why="""
A migration that fails in production fails in the middle of a deploy: the application version
expecting the new schema may already be rolling out, and a migration that is not one transaction
leaves half its changes behind.
""",
    bad="""
-- Production's table is "customers"; the migration was only run on a developer database
-- where an old "customer" table still existed.
ALTER TABLE invoices
    ADD CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (id) NOT VALID;
""",
    good="""
-- Written and tested against the schema the migrations build (migguard plan does that on a clone).
ALTER TABLE invoices
    ADD CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
""",
    quiet="""
Every pending migration applies on the clone. Failures that depend on production's data (a NOT
NULL column over NULL rows, duplicates under a new unique key) are found by the data pre-checks
(`precheck-*`), since the clone has the schema and not the rows.
""",
    references=(_PG + "sql-altertable.html",),
))

_PLAN["history-not-replayable"] = (Severity.ERROR, "an applied migration fails when the history is replayed on "
                                                     "the shadow", _doc(
    what="""
`migguard plan`, `status` and `apply` replay the applied migrations from an empty database on the
shadow. When one fails there, this names it, PostgreSQL's error and the fix: when production has
the object the failing statement needs (a table, column, type, schema or function), production
predates the migrations and `migguard baseline` captures its schema as the first migration;
otherwise it names the object no earlier migration creates. The command stops there (exit 1);
nothing touches production.
""",
    why="""
Drift, the plan's clone and its rollback are all measured against the replayed history. A history
that does not replay cannot say what production should be, and every environment built from the
migrations (CI, staging, a new developer's database) fails the same way.
""",
    bad="""
-- Production's "customers" table was created by hand before the project used migrations; the
-- first migration alters it, so an empty database cannot replay it.
ALTER TABLE customers ADD COLUMN email text;
""",
    good="""
-- `migguard baseline --confirm-live` wrote production's schema as the first migration and
-- recorded it as applied; the next migration alters a table the history creates.
ALTER TABLE customers ADD COLUMN email text;
""",
    quiet="""
Every applied migration replays. A migration that needs an extension the shadow server lacks is
`extension-unavailable` instead; a pending migration that fails on the clone is `migration-fails`.
""",
    references=(_PG + "app-pgdump.html",),
))

_PLAN["extension-unavailable"] = (Severity.ERROR, "a migration creates an extension the shadow server does not "
                                                  "have", _doc(
    what="""
A migration's `CREATE EXTENSION` fails on the shadow because the server has no files for the
extension (SQLSTATE 0A000 "extension is not available" since PostgreSQL 16, 58P01 "could not open
extension control file" before): the bundled server ships no contrib modules. This names the
extension and how to give the shadow one that has it: `migguard shadow start --pg-version N` (a
local PostgreSQL of production's major, whose contrib modules are installed), `PG_SHADOW_URL`
pointing at such a server, or installing postgresql-contrib. Reported for the replayed history,
for the pending migrations, and before production's schema is restored on the shadow (plan's
clone, status's drift check) for each extension production has that the shadow lacks; the command
stops there (exit 1).
""",
    why="""
Without the extension the shadow cannot replay the history or prove the migration, so nothing
after it (drift, locks, rollback) could be checked. The migration itself is fine when production
has the extension's files: the shadow is what lacks them.
""",
    bad="""
-- The shadow is the bundled PostgreSQL, which has no contrib modules.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
""",
    good="""
-- The same migration, planned with `migguard shadow start --pg-version 15` (production's major,
-- with postgresql-contrib installed) or PG_SHADOW_URL pointing at a server that has pg_trgm.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
""",
    quiet="""
The shadow server has the extension's files, or the migration only names an extension that
already exists (`IF NOT EXISTS`).
""",
    references=(_PG + "sql-createextension.html", _PG + "contrib.html"),
))

_PLAN["observed-table-rewrite"] = (Severity.ERROR, "a statement rewrote a table on the clone (graded by "
                                                   "production's size: info, warning, error)", _doc(
    what="""
While applying the pending migrations to the clone, records each table whose storage a statement
replaced (its relfilenode changed): a full rewrite under an ACCESS EXCLUSIVE lock. The severity
comes from the table's size in production: info under 10,000 rows (and 64 MiB), error from
1,000,000 rows or 1 GiB, warning in between.
""",
    why="""
The static rules guess from the SQL whether a statement rewrites; this is the measured fact on
the real schema. A rewrite holds an ACCESS EXCLUSIVE lock for as long as it takes to copy the
table and rebuild its indexes: on a large table, minutes in which every query on it waits.
""",
    bad="""
-- invoices holds 40 million rows in production; changing the type rewrites all of them.
SET lock_timeout = '2s';
ALTER TABLE invoices ALTER COLUMN amount_cents TYPE numeric(12, 2);
""",
    good="""
-- Expand and contract: a new column (no rewrite), filled in batches by the application or a
-- job, then swapped in by a later migration.
SET lock_timeout = '2s';
ALTER TABLE invoices ADD COLUMN amount numeric(12, 2);
""",
    quiet="""
Statements that change only the catalog (adding a nullable column, a column with a constant
default, widening a varchar, a CHECK or foreign key added NOT VALID); tables created by the
pending migrations. Without a production URL sizes are unknown and rewrites are info.
""",
    references=(ALTER_TABLE, LOCKING),
))

_PLAN["observed-blocking-lock"] = (Severity.ERROR, "a statement took a lock that blocks traffic on a table of "
                                                   "production's size (warning on medium tables)", _doc(
    what="""
While applying the pending migrations to the clone, records the locks each statement's backend
newly holds on existing tables, and reports SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE and ACCESS
EXCLUSIVE locks (they block writes, or reads and writes) on tables that are not small in
production: a warning from 10,000 rows (or 64 MiB), an error from 1,000,000 rows (or 1 GiB). A
table the statement rewrote is reported as `observed-table-rewrite` instead.
""",
    why="""
The lock is held until the migration's transaction commits, and while a statement waits for it
every later query on the table queues behind. On a busy large table, a non-concurrent index
build or a validating constraint stops writes (or all traffic) for as long as it runs.
""",
    bad="""
-- invoices holds 40 million rows in production: CREATE INDEX holds a SHARE lock (no writes)
-- for the whole build.
CREATE INDEX invoices_customer_idx ON invoices (customer_id);
""",
    good="""
-- Built without blocking writes (outside a transaction block).
CREATE INDEX CONCURRENTLY invoices_customer_idx ON invoices (customer_id);
""",
    quiet="""
Weaker locks (ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE: reads and writes go
on); small tables; tables created by the pending migrations; without a production URL (sizes
unknown).
""",
    references=(LOCKING, CREATE_INDEX),
))

_PRECHECK_INTRO = """
After the clone is migrated, `migguard plan` derives data checks from the planned changes and
runs them on production, read-only (a READ ONLY transaction, a 5 s statement_timeout, repeated on
a 1% TABLESAMPLE when the full count times out, and then said so). Only counts and the offending
rows' primary-key values are reported. """

_PLAN["precheck-not-null"] = (Severity.ERROR, "production has rows that violate a new NOT NULL: the migration "
                                              "will fail", _doc(
    what=_PRECHECK_INTRO + """This check counts the rows a new NOT NULL rejects: NULLs in a
column that gets SET NOT NULL, and every existing row when a NOT NULL column is added without a
default.
""",
    why="""
The migration passes on an empty shadow and fails in production, mid-deploy, after holding an
ACCESS EXCLUSIVE lock while it scanned the table.
""",
    bad="""
-- Production has invoices with customer_id NULL (imported before customers existed).
ALTER TABLE invoices ALTER COLUMN customer_id SET NOT NULL;
""",
    good="""
-- Applied in an earlier release (its own plan), in batches:
--   UPDATE invoices SET customer_id = <the right customer> WHERE customer_id IS NULL;
-- This migration: no NULL is left; the CHECK is validated under a weak lock, and SET NOT NULL
-- uses it instead of scanning the table.
ALTER TABLE invoices ADD CONSTRAINT invoices_customer_id_not_null CHECK (customer_id IS NOT NULL) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_customer_id_not_null;
ALTER TABLE invoices ALTER COLUMN customer_id SET NOT NULL;
""",
    quiet="""
No offending row; columns added with a default, identity or generated expression; tables created
by the pending migrations; without a production URL.
""",
    references=(ALTER_TABLE, CONSTRAINTS),
))

_PLAN["precheck-unique"] = (Severity.ERROR, "production has duplicates under a new unique key: the migration "
                                            "will fail", _doc(
    what=_PRECHECK_INTRO + """This check counts the groups of duplicate non-NULL values under a new
unique or primary key constraint, or a new unique index (its predicate included).
""",
    why="""
Building the unique index fails on the first duplicate, after scanning (and, without
CONCURRENTLY, locking) the table; a concurrent build leaves an invalid index behind.
""",
    bad="""
-- Production has the same e-mail address twice in some tenants.
ALTER TABLE users ADD CONSTRAINT users_tenant_email_key UNIQUE (tenant_id, email);
""",
    good="""
-- Applied in an earlier release (its own plan): the duplicates merged or renamed.
-- This migration: build the index without blocking writes, then attach it.
CREATE UNIQUE INDEX CONCURRENTLY users_tenant_email_key ON users (tenant_id, email);
ALTER TABLE users ADD CONSTRAINT users_tenant_email_key UNIQUE USING INDEX users_tenant_email_key;
""",
    quiet="""
No duplicates; keys on expressions; tables created by the pending migrations; without a
production URL.
""",
    references=(CONSTRAINTS, CREATE_INDEX),
))

_PLAN["precheck-foreign-key"] = (Severity.ERROR, "production has rows a new foreign key rejects: the migration "
                                                 "will fail", _doc(
    what=_PRECHECK_INTRO + """This check counts the rows whose non-NULL key has no matching row in
the referenced table, for a new foreign key that is validated (not NOT VALID).
""",
    why="""
Adding a validated foreign key checks every existing row while holding a SHARE ROW EXCLUSIVE lock
on both tables, and fails on the first orphan.
""",
    bad="""
-- Production has invoices whose customer was deleted.
ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk FOREIGN KEY (tenant_id, customer_id)
    REFERENCES customers (tenant_id, id);
""",
    good="""
-- Applied in an earlier release (its own plan): the orphans repaired or removed.
-- This migration: add the key without checking old rows, then validate it under a weaker lock.
ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk FOREIGN KEY (tenant_id, customer_id)
    REFERENCES customers (tenant_id, id) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_customer_fk;
""",
    quiet="""
No orphans; foreign keys left NOT VALID by the pending migrations (existing rows are not checked);
tables created by the pending migrations; without a production URL. The check reads production
before the pending migrations run, so a clean-up in the same plan does not count: apply it first.
""",
    references=(CONSTRAINTS, ALTER_TABLE),
))

_PLAN["precheck-check"] = (Severity.ERROR, "production has rows a new CHECK constraint rejects: the migration "
                                           "will fail", _doc(
    what=_PRECHECK_INTRO + """This check counts the rows for which the condition of a new
validated CHECK constraint is false.
""",
    why="""
Adding a validated CHECK scans the table under an ACCESS EXCLUSIVE lock and fails on the first
row that violates it.
""",
    bad="""
-- Production has a few refunds stored as negative amounts.
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount_cents >= 0);
""",
    good="""
-- Applied in an earlier release (its own plan): the refunds moved to their own table.
-- This migration: add the CHECK without scanning, then validate it under a weaker lock.
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount_cents >= 0) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_amount_positive;
""",
    quiet="""
No violating row; CHECKs left NOT VALID by the pending migrations; tables created by the pending
migrations; without a production URL. A clean-up in the same plan does not count: apply it first.
""",
    references=(CONSTRAINTS, ALTER_TABLE),
))

_PLAN["precheck-narrowing"] = (Severity.ERROR, "production has values longer than a narrowed varchar/char: the "
                                               "migration will fail", _doc(
    what=_PRECHECK_INTRO + """This check counts the rows whose value is longer than the new length
of a column changed to `varchar(n)` or `char(n)`.
""",
    why="""
The type change rewrites the table under an ACCESS EXCLUSIVE lock and fails on the first value
that does not fit (`value too long for type character varying(n)`); had it been a cast that
truncates, data would be lost.
""",
    bad="""
-- Production has display names up to 140 characters.
ALTER TABLE users ALTER COLUMN display_name TYPE varchar(40);
""",
    good="""
-- Keep the type (no rewrite) and limit new and updated values with a CHECK that does not scan
-- the existing rows; VALIDATE it in a later release, once the long names are shortened.
ALTER TABLE users ADD CONSTRAINT users_display_name_length CHECK (char_length(display_name) <= 40) NOT VALID;
""",
    quiet="""
No value too long; type changes other than to `varchar(n)`/`char(n)`; tables created by the
pending migrations; without a production URL.
""",
    references=(_PG + "datatype-character.html", ALTER_TABLE),
))

_PLAN["precheck-skipped"] = (Severity.WARNING, "a data pre-check could not read every row of its table in "
                                             "production (row-level security, or no SELECT)", _doc(
    what=_PRECHECK_INTRO + """The checks run with `row_security` off, so that they count every
row or fail: when the connecting role sees the table only through row-level security (it lacks
BYPASSRLS and does not own the table, or owns it under FORCE ROW LEVEL SECURITY), or may not read
it at all, PostgreSQL refuses the count and this finding names the check that did not run and why.
""",
    why="""
A count filtered by a tenant policy would report zero offending rows while other tenants' rows
still make the migration fail in production; a policy that reads an unset tenant setting would
fail the count outright. An unchecked condition must be visible, not reported clean.
""",
    bad="""
-- migguard connects as app_owner (no BYPASSRLS); invoices is under FORCE ROW LEVEL SECURITY.
ALTER TABLE invoices ALTER COLUMN customer_id SET NOT NULL;
""",
    good="""
-- The same migration, with migguard connecting as a role that has BYPASSRLS
-- (ALTER ROLE migrator BYPASSRLS, run by a superuser): the NULLs of every tenant are counted.
ALTER TABLE invoices ALTER COLUMN customer_id SET NOT NULL;
""",
    quiet="""
The connecting role is a superuser, has BYPASSRLS, or owns a table whose row-level security is
not forced; tables without row-level security that the role may read.
""",
    references=(_PG + "ddl-rowsecurity.html", _PG + "runtime-config-client.html#GUC-ROW-SECURITY"),
))

_PLAN["precheck-destroyed-rows"] = (Severity.WARNING, "the migration destroys data that production holds (a "
                                                      "dropped table's rows, a dropped column's values)", _doc(
    what=_PRECHECK_INTRO + """This check counts the data the migration destroys: the rows of a
dropped table, the non-NULL values of a dropped column. It does not fail the migration; it is a
warning the reviewer (and `apply`, which keeps a backup and names the restore command) must
acknowledge.
""",
    why="""
The generated rollback restores the structure, not the data: once the migration has run, the
values are only in the backup. Dropping a column the running application still reads also breaks
it.
""",
    bad="""
-- invoices.legacy_ref still holds values in production.
ALTER TABLE invoices DROP COLUMN legacy_ref;
""",
    good="""
-- Applied in an earlier release (its own plan), after the application stopped reading it:
--   INSERT INTO invoice_legacy_refs (tenant_id, invoice_id, legacy_ref)
--       SELECT tenant_id, id, legacy_ref FROM invoices WHERE legacy_ref IS NOT NULL;
--   UPDATE invoices SET legacy_ref = NULL WHERE legacy_ref IS NOT NULL;  -- in batches
-- This migration, once the copy is verified: the drop destroys nothing.
ALTER TABLE invoices DROP COLUMN legacy_ref;
""",
    quiet="""
The dropped table is empty, or the dropped column holds only NULLs; tables created by the pending
migrations; without a production URL.
""",
    references=(ALTER_TABLE, _PG + "sql-droptable.html"),
))

_PLAN["query-plan-regression"] = (Severity.WARNING, "a watched query stops using an index, or fails to plan, "
                                                    "after the migration", _doc(
    what="""
Each query in the `watch_queries` file is EXPLAINed (no ANALYZE: nothing runs) on the clone
before and after the pending migrations. A query that no longer uses an index it used before, or
that no longer plans at all (a dropped column or table), is reported at its line in the file.
Production's statistics are not copied, so the plan's shape is compared, not its cost.
""",
    why="""
The queries that matter most (the hot path, the dashboard) are exactly the ones a dropped or
replaced index turns into sequential scans; the migration succeeds and the outage starts with the
next peak of traffic.
""",
    bad="""
-- watch_queries.sql has: SELECT * FROM bookings WHERE tenant_id = $1 AND starts_at > now();
DROP INDEX CONCURRENTLY bookings_tenant_starts_idx;
""",
    good="""
-- Keep the index the watched query needs; drop only the one no watched query uses.
DROP INDEX CONCURRENTLY bookings_legacy_status_idx;
""",
    quiet="""
No `watch_queries` file is configured; the plan of every watched query keeps the indexes it
used. An index replaced by one with another name is reported too (the old name is lost from the
plan): check that the new plan is the one intended.
""",
    references=(EXPLAIN, CREATE_INDEX),
))

_PLAN["rollback-unverified"] = (Severity.ERROR, "the generated rollback does not restore the schema from before "
                                                "the migration", _doc(
    what="""
`migguard plan` generates a rollback script from the schema diff of the pending migrations, runs
it on the migrated clone, and compares the result with the schema from before. When the script
fails, or leaves differences beyond the changes it declares irreversible, it is reported.
""",
    why="""
A rollback that was never run is a guess. When a deploy goes wrong is the worst moment to find
out that the undo script fails, or leaves the schema half-way.
""",
    bad="""
-- The migration widens a CHECK and seeds a row only the new CHECK allows. The rollback re-adds
-- the old CHECK, which the seeded row violates, so it fails on the clone.
ALTER TABLE plans DROP CONSTRAINT plans_code_check;
ALTER TABLE plans ADD CONSTRAINT plans_code_check CHECK (code IN ('free', 'pro', 'team'));
INSERT INTO plans (code, name) VALUES ('team', 'Team');
""",
    good="""
-- The schema change alone: its rollback runs. The seed row ships in a later migration, once this
-- one is applied, with its own down script (DELETE FROM plans WHERE code = 'team').
ALTER TABLE plans DROP CONSTRAINT plans_code_check;
ALTER TABLE plans ADD CONSTRAINT plans_code_check CHECK (code IN ('free', 'pro', 'team'));
""",
    quiet="""
The rollback runs on the clone and gives back the schema from before, except for the changes
listed as irreversible (such as an added enum value), which the plan reports separately.
""",
    references=(ALTER_TABLE,),
))

_PLAN["generated-sql-unsafe"] = (Severity.WARNING, "the generated rollback takes a lock migguard's own rules refuse "
                                                  "in a migration", _doc(
    what="""
`migguard plan` lints the rollback.sql it generates with migguard's own rules and reports each
error of a rule outside the destructive family (a rollback drops what its migration created by
nature; `migguard rollback` gates that itself) at its line of rollback.sql, naming the rule.
""",
    why="""
The rollback runs in one transaction, all or nothing (it restores dropped data in the same
transaction), so it cannot use CREATE INDEX CONCURRENTLY or validate a constraint apart: the
locks it takes on a live table are the ones the named rule describes, for as long as it runs.
Whoever may have to run it should know that before the deploy, not during the incident.
""",
    bad="""
-- The migration drops an index; rollback.sql builds it again under a SHARE lock (writes wait).
DROP INDEX CONCURRENTLY accounts_email_idx;
""",
    good="""
-- Drop the index in a later release, once nothing may need a rollback to the version that used it.
-- This migration keeps it; its rollback takes no lock on accounts.
ALTER TABLE accounts ADD COLUMN nickname text;
""",
    quiet="""
The generated rollback breaks none of the lock, hygiene, tenancy or compatibility rules at error
level. `migguard diff --sql` prints online-safe SQL by default (`--no-online` for the plain forms).
""",
    references=(ALTER_TABLE, CREATE_INDEX),
))

_PLAN["down-script-fails"] = (Severity.ERROR, "a hand-written down script fails after its migration", _doc(
    what="""
When pending migrations have hand-written down scripts, `migguard plan` runs them, newest first,
on a copy of the migrated clone, each in a transaction, and reports the first one that fails,
with PostgreSQL's error. Older down scripts are not run after a failure.
""",
    why="""
A down script is for the moment a deploy goes wrong. One that fails then leaves the operator
improvising SQL on production under pressure; migguard checks it instead of trusting it.
""",
    bad="""
-- 0003_index/up.sql
CREATE INDEX accounts_name_idx ON accounts (name);
-- 0003_index/down.sql: the index name is misspelled
DROP INDEX accounts_name_index;
""",
    good="""
-- 0003_index/up.sql
CREATE INDEX accounts_name_idx ON accounts (name);
-- 0003_index/down.sql
DROP INDEX accounts_name_idx;
""",
    quiet="""
Migrations without a down script (migguard's generated, verified rollback covers them); a down
script that runs (whether it restores the schema is `down-script-mismatch`).
""",
    references=(_PG + "sql-dropindex.html",),
))

_PLAN["down-script-mismatch"] = (Severity.WARNING, "a hand-written down script does not restore the schema from "
                                                   "before its migration", _doc(
    what="""
After running a pending migration's down script on a copy of the migrated clone (newest first),
compares the schema with the one from before that migration and reports the differences (up to
four listed).
""",
    why="""
A down script that runs but forgets part of its migration leaves objects behind (an index, a
column, a policy): the next deploy of the migration then fails on "already exists", or the
schema drifts from the history. The plan's per-migration rollback (`rollback/<version>.sql`) is
verified and can be compared with it.
""",
    bad="""
-- 0003_index/up.sql
CREATE INDEX accounts_name_idx ON accounts (name);
ALTER TABLE accounts ADD COLUMN flag int;
-- 0003_index/down.sql: forgets the index
ALTER TABLE accounts DROP COLUMN flag;
""",
    good="""
-- 0003_index/up.sql
CREATE INDEX accounts_name_idx ON accounts (name);
ALTER TABLE accounts ADD COLUMN flag int;
-- 0003_index/down.sql
DROP INDEX accounts_name_idx;
ALTER TABLE accounts DROP COLUMN flag;
""",
    quiet="""
Migrations without a down script; down scripts that fail (reported as `down-script-fails`); older
down scripts after the first that fails or mismatches (they cannot run before it is undone).
""",
    references=(ALTER_TABLE,),
))


_PLAN["rollback-not-restorable"] = (Severity.WARNING, "a dropped column's values cannot come back with a rollback: "
                                                      "its table has no row key", _doc(
    what="""
For every column the pending migrations drop, checks that its table (before the migration) has a
primary key, or a unique key over NOT NULL columns. `migguard rollback` brings a dropped column's
values back from apply's backup by matching rows on that key; without one, they cannot be matched.
""",
    why="""
The structural rollback re-adds the column, empty. Without a key, the backup holds the values but
nothing says which row each belongs to: the data is lost for good, whatever the plan says about
the rollback being verified. `rollback --confirm-live` refuses such a rollback unless
`--no-restore-data` accepts the loss.
""",
    bad="""
-- events has no primary key
ALTER TABLE events DROP COLUMN payload;
""",
    good="""
-- give the table a key first (in an earlier migration), then drop the column
ALTER TABLE events ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
ALTER TABLE events DROP COLUMN payload;
""",
    quiet="""
Tables with a primary key or a unique key over NOT NULL columns; generated columns (their values
are computed again); dropped tables (their rows come back whole with COPY).
""",
    references=(ALTER_TABLE,),
))

_PLAN["shadow-major-mismatch"] = (Severity.INFO, "the shadow runs another PostgreSQL major than production",
                                    _doc(
    what="""
Reads production's `server_version_num` and the shadow's. The ephemeral shadow is started on
production's major when one is available (local binaries of that major, then a `postgres:<major>`
container when a Docker engine answers); when none is, it runs on the bundled server and the plan
says so with this finding (and one warning line on stderr). A PG_SHADOW_URL, or the shadow kept by
`migguard shadow start`, on another major gets the same finding.
""",
    why="""
PostgreSQL deparses view definitions, defaults and policies differently from one major to the
next, and accepts different syntax: a shadow on another major can show drift production does not
have, or replay a migration production would refuse (or the other way round). The plan is still
made; this says how far to trust it.
""",
    bad="""
-- production runs PostgreSQL 15; no PostgreSQL 15 server here, so the shadow is the bundled 16
CREATE VIEW open_invoices AS SELECT id, number FROM invoices WHERE paid_at IS NULL;
""",
    good="""
-- the same migration, planned with a PostgreSQL 15 shadow (apt install postgresql-15, a Docker
-- engine for the postgres:15 container, or PG_SHADOW_URL pointing at a PostgreSQL 15 server)
CREATE VIEW open_invoices AS SELECT id, number FROM invoices WHERE paid_at IS NULL;
""",
    quiet="""
The shadow and production run the same major; no production URL (the plan then compares against
the replayed history or `--base`, on the default server).
""",
    references=(_PG + "upgrading.html", _PG + "functions-info.html"),
))


PLAN_RULES: tuple[FindingKind, ...] = tuple(sorted(
    (FindingKind(i, severity, summary, "plan", "database", doc) for i, (severity, summary, doc) in _PLAN.items()),
    key=lambda rule: rule.id))

FINDINGS = FindingProvider(origin="database", families=("plan",), kinds=PLAN_RULES)
