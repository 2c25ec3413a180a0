"""The incremental catalog reader against a full introspection, after every one of a sequence of
varied migrations on a real PostgreSQL: the patched model must equal the full read exactly (same
objects, same order when serialised), and so must the change set each migration's diff gives."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from migguard.pg.incremental import IncrementalReader, needs_full_read
from migguard.pg.introspect import introspect
from migguard.schema.diff import diff
from migguard.sql.parse import parse_file

pytestmark = pytest.mark.pg

# (name, SQL, run outside a transaction, expected full-read reason or "" for a patched read)
MIGRATIONS = [
    ("base", """
CREATE SCHEMA app;
CREATE TYPE app.state AS ENUM ('open', 'paid');
CREATE DOMAIN app.cents AS bigint CONSTRAINT cents_positive CHECK (VALUE >= 0);
CREATE TYPE app.pair AS (a int, b text);
CREATE SEQUENCE app.numbers START 10;
CREATE TABLE app.tenants (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE app.invoices (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL REFERENCES app.tenants (id),
    amount app.cents,
    state app.state NOT NULL DEFAULT 'open',
    number int DEFAULT nextval('app.numbers')
);
CREATE TABLE app.other (id int PRIMARY KEY, note text);
CREATE TABLE app.holder (one app.tenants, many app.tenants[], pair app.pair);
CREATE VIEW app.open_invoices AS SELECT id, tenant_id, amount FROM app.invoices WHERE state = 'open';
CREATE FUNCTION app.positive(v bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT v >= 0 $$;
""", False, "first read"),
    ("add column, index, check not valid", """
ALTER TABLE app.invoices ADD COLUMN note text;
CREATE INDEX invoices_tenant_idx ON app.invoices (tenant_id);
ALTER TABLE app.invoices ADD CONSTRAINT amount_small CHECK (amount < 1000000) NOT VALID;
""", False, ""),
    ("validate, comments, defaults", """
ALTER TABLE app.invoices VALIDATE CONSTRAINT amount_small;
COMMENT ON TABLE app.invoices IS 'money';
COMMENT ON COLUMN app.invoices.note IS 'free text';
COMMENT ON INDEX app.invoices_tenant_idx IS 'by tenant';
COMMENT ON CONSTRAINT amount_small ON app.invoices IS 'sanity';
ALTER TABLE app.invoices ALTER COLUMN note SET DEFAULT 'n/a';
""", False, ""),
    ("comments removed, default dropped, type changed", """
COMMENT ON COLUMN app.invoices.note IS NULL;
COMMENT ON INDEX app.invoices_tenant_idx IS NULL;
ALTER TABLE app.invoices ALTER COLUMN note DROP DEFAULT;
ALTER TABLE app.other ALTER COLUMN id TYPE bigint;
""", False, ""),
    ("RLS and policies", """
ALTER TABLE app.invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON app.invoices USING (tenant_id = current_setting('app.tenant_id')::bigint);
CREATE POLICY no_big ON app.invoices AS RESTRICTIVE FOR INSERT WITH CHECK (app.positive(amount));
""", False, ""),
    ("policy altered and dropped", """
ALTER POLICY tenant_isolation ON app.invoices USING (tenant_id > 0);
DROP POLICY no_big ON app.invoices;
""", False, ""),
    ("index concurrently", "CREATE INDEX CONCURRENTLY other_note_idx ON app.other (note)", True, ""),
    ("drop index concurrently", "DROP INDEX CONCURRENTLY app.other_note_idx", True, ""),
    ("enum value, domain constraint, composite attribute", """
ALTER TYPE app.state ADD VALUE 'void';
ALTER DOMAIN app.cents ADD CONSTRAINT cents_small CHECK (VALUE < 100000000);
ALTER TYPE app.pair ADD ATTRIBUTE c date;
""", False, ""),
    ("function replaced, view replaced", """
CREATE OR REPLACE FUNCTION app.positive(v bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT v > 0 $$;
CREATE OR REPLACE VIEW app.open_invoices AS SELECT id, tenant_id, amount, note FROM app.invoices WHERE state = 'open';
""", False, ""),
    ("rename a table others name", "ALTER TABLE app.tenants RENAME TO accounts", False, ""),
    ("rename a column a view reads", "ALTER TABLE app.invoices RENAME COLUMN amount TO amount_cents", False, ""),
    ("rename a sequence a default calls, a type a column uses, a function a check calls", """
ALTER SEQUENCE app.numbers RENAME TO invoice_numbers;
ALTER TYPE app.state RENAME TO invoice_state;
ALTER TABLE app.other ADD CONSTRAINT other_positive CHECK (app.positive(id));
""", False, ""),
    ("rename the function", "ALTER FUNCTION app.positive(bigint) RENAME TO is_positive", False, ""),
    ("a DO block", """
DO $$
BEGIN
  EXECUTE 'CREATE TABLE app.made_by_do (id int PRIMARY KEY, v text)';
  EXECUTE 'CREATE INDEX made_by_do_v ON app.made_by_do (v)';
END $$;
""", False, ""),
    ("a function that alters a table, called", """
CREATE FUNCTION app.widen() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  ALTER TABLE app.other ADD COLUMN widened boolean NOT NULL DEFAULT false;
  ALTER TABLE app.other ALTER COLUMN note SET NOT NULL;
END $$;
SELECT app.widen();
""", False, ""),
    ("partitions, triggers, statistics, rules, inheritance", """
CREATE TABLE app.events (tenant_id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_tenant ON app.events (tenant_id);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER other_touch BEFORE UPDATE ON app.other FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE STATISTICS app.other_stats ON id, note FROM app.other;
CREATE RULE other_no_delete AS ON DELETE TO app.other DO INSTEAD NOTHING;
CREATE TABLE app.base_row (created date);
CREATE TABLE app.child_row (extra int) INHERITS (app.base_row);
""", False, ""),
    ("detach, disable trigger, statistics target, no inherit", """
ALTER TABLE app.events DETACH PARTITION app.events_2026;
ALTER TABLE app.other DISABLE TRIGGER other_touch;
ALTER STATISTICS app.other_stats SET STATISTICS 500;
ALTER TABLE app.child_row NO INHERIT app.base_row;
DROP RULE other_no_delete ON app.other;
""", False, ""),
    ("index renamed, an enum value renamed, partition attached, materialized view", """
ALTER INDEX app.invoices_tenant_idx RENAME TO invoices_by_tenant;
ALTER TYPE app.invoice_state RENAME VALUE 'open' TO 'opened';
ALTER TABLE app.events ATTACH PARTITION app.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE MATERIALIZED VIEW app.totals AS SELECT tenant_id, count(*) AS n FROM app.invoices GROUP BY tenant_id;
CREATE UNIQUE INDEX totals_tenant ON app.totals (tenant_id);
""", False, ""),
    ("a partitioned index renamed", "ALTER INDEX app.events_tenant RENAME TO events_by_tenant", False, ""),
    ("grants, owner, a table moved to another schema", """
GRANT SELECT ON app.invoices TO {role};
GRANT USAGE ON SCHEMA app TO {role};
ALTER TABLE app.other OWNER TO {role};
CREATE SCHEMA archive;
ALTER TABLE app.made_by_do SET SCHEMA archive;
""", False, ""),
    ("drops: constraint, column, a table with a dependent view (cascade), a function", """
ALTER TABLE app.invoices DROP CONSTRAINT amount_small;
ALTER TABLE app.other DROP COLUMN widened;
DROP TABLE app.invoices CASCADE;
DROP FUNCTION app.widen();
""", False, ""),
    ("rename a schema", "ALTER SCHEMA archive RENAME TO attic", False, "a schema was renamed"),
    ("rename a role that owns a table", "ALTER ROLE {role} RENAME TO {role}_renamed", False,
     "a role was renamed or dropped"),
    ("vacuum", "ALTER TABLE app.other ADD COLUMN frozen int; VACUUM FREEZE app.other", True, "asked for"),
]


@pytest.fixture
def role(pg):
    name = f"inc_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {name} NOLOGIN")
    yield name
    with psycopg.connect(pg, autocommit=True) as admin:
        for owner in (name, f"{name}_renamed"):
            if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,)).fetchone():
                admin.execute(f"DROP OWNED BY {owner}")
                admin.execute(f"DROP ROLE {owner}")


def test_patched_model_equals_a_full_read_after_every_migration(pg, role):
    with psycopg.connect(pg, autocommit=True) as conn:
        reader = IncrementalReader(conn)
        patched_before = full_before = None
        for name, sql, outside, expected in MIGRATIONS:
            text = sql.format(role=role)
            if outside:  # statement by statement, as a migration with CONCURRENTLY or VACUUM runs
                for statement in parse_file(text).statements:
                    conn.execute(statement.text)
            else:
                with conn.transaction():
                    conn.execute(text)
            kinds = [s.node_kind for s in parse_file(text).statements]
            patched = reader.read(full=needs_full_read(kinds))
            full = introspect(conn)
            assert reader.last_full_read == expected, name
            assert patched == full, name
            assert patched.model_dump_json() == full.model_dump_json(), name
            if full_before is not None:
                assert ([c.describe() for c in diff(patched_before, patched)]
                        == [c.describe() for c in diff(full_before, full)]), name
                assert diff(patched_before, patched), f"{name}: the migration changed nothing the model holds"
            patched_before, full_before = patched, full
    assert reader.partial_reads == sum(1 for *_, expected in MIGRATIONS if not expected)


def test_first_read_is_whole_and_unchanged_database_reads_nothing_new(pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
        reader = IncrementalReader(conn)
        first = reader.read()
        again = reader.read()
    assert (reader.full_reads, reader.partial_reads) == (1, 1)
    assert again == first
    assert again.tables["public.t"] is first.tables["public.t"]  # untouched objects are not read again
