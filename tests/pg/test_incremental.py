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


@pytest.fixture(params=["own connection", "the migrations' connection"])
def reading(request, pg):
    """The reader's connection: one of its own, as the plan's (its prepared queries outlive every
    read), or the one the migrations run on (psycopg forgets them after each ALTER or DROP)."""
    if request.param == "own connection":
        with psycopg.connect(pg, autocommit=True) as conn:
            yield lambda _: conn
    else:
        yield lambda conn: conn


def test_patched_model_equals_a_full_read_after_every_migration(pg, role, reading):
    with psycopg.connect(pg, autocommit=True) as conn:
        reader = IncrementalReader(reading(conn))
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


# Changes the sequence above does not make, each a way a patched model could miss something:
# (name, SQL, run outside a transaction, expected full-read reason, whether the model changes: None
# when no catalog row changes, so that no object may be read again).
ATTACKS = [
    ("base", """
CREATE SCHEMA app;
CREATE SCHEMA side;
CREATE TYPE app.state AS ENUM ('open', 'paid');
CREATE TYPE app.pair AS (a int, b text);
CREATE SEQUENCE app.loose;
CREATE TABLE app.owner_of (id int DEFAULT nextval('app.loose'));
ALTER SEQUENCE app.loose OWNED BY app.owner_of.id;
CREATE TABLE app.t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v text, s app.state, tags app.state[]);
CREATE TABLE app.u (id int PRIMARY KEY, t_id int REFERENCES app.t (id));
CREATE FUNCTION app.f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x $$;
CREATE FUNCTION app.rows_of_u() RETURNS SETOF app.u LANGUAGE sql AS $$ SELECT * FROM app.u $$;
CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_trg BEFORE INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION app.trg();
CREATE VIEW app.v1 AS SELECT id, v FROM app.t;
CREATE VIEW app.v2 AS SELECT id FROM app.v1;
CREATE RULE u_log AS ON UPDATE TO app.u DO ALSO NOTIFY u_changed;
CREATE TYPE app.wrap AS (inner_pair app.pair, st app.state);
CREATE DOMAIN app.small AS int CHECK (app.f(VALUE) < 100);
""", False, "first read", True),
    ("sequence owned by none", "ALTER SEQUENCE app.loose OWNED BY NONE", False, "", True),
    ("sequence owned again, options", "ALTER SEQUENCE app.loose OWNED BY app.u.id INCREMENT BY 3 CACHE 5",
     False, "", True),
    ("only DML", "INSERT INTO app.t (v) VALUES ('x'); UPDATE app.t SET v = 'y'; DELETE FROM app.u",
     False, "", None),
    ("truncate", "TRUNCATE app.u, app.t", False, "", False),
    ("grants and revokes: table, column, sequence, function, schema, type", """
GRANT SELECT, UPDATE ON app.t TO {role} WITH GRANT OPTION;
GRANT INSERT (v) ON app.t TO {role};
GRANT USAGE ON SEQUENCE app.loose TO {role};
REVOKE EXECUTE ON FUNCTION app.f(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.f(int) TO {role};
GRANT USAGE, CREATE ON SCHEMA side TO {role};
REVOKE USAGE ON TYPE app.state FROM PUBLIC;
GRANT USAGE ON DOMAIN app.small TO {role};
""", False, "", True),
    ("default privileges, then objects made under them", """
ALTER DEFAULT PRIVILEGES IN SCHEMA side GRANT SELECT ON TABLES TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA side REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
CREATE TABLE side.made (id int);
CREATE FUNCTION side.g() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
""", False, "", True),
    ("storage, statistics target, reloptions, unlogged, replica identity", """
ALTER TABLE app.t ALTER COLUMN v SET STORAGE EXTERNAL;
ALTER TABLE app.t ALTER COLUMN v SET STATISTICS 250;
ALTER TABLE app.t SET (fillfactor = 70, autovacuum_enabled = false);
ALTER TABLE app.u SET UNLOGGED;
ALTER TABLE app.t REPLICA IDENTITY FULL;
""", False, "", True),
    ("replica identity using an index, logged again, reset options", """
CREATE UNIQUE INDEX t_v_key ON app.t (v);
ALTER TABLE app.t ALTER COLUMN v SET NOT NULL;
ALTER TABLE app.t REPLICA IDENTITY USING INDEX t_v_key;
ALTER TABLE app.u SET LOGGED;
ALTER TABLE app.t RESET (fillfactor);
""", False, "", True),
    ("owners: table, function, type, sequence, schema, view", """
ALTER TABLE app.u OWNER TO {role};
ALTER FUNCTION app.f(int) OWNER TO {role};
ALTER TYPE app.pair OWNER TO {role};
ALTER SEQUENCE app.loose OWNER TO {role};
ALTER SCHEMA side OWNER TO {role};
ALTER VIEW app.v2 OWNER TO {role};
""", False, "", True),
    ("function attributes", """
ALTER FUNCTION app.f(int) SET search_path = app, pg_temp;
ALTER FUNCTION app.f(int) SECURITY DEFINER;
ALTER FUNCTION app.trg() STABLE;
""", False, "", True),
    ("triggers and rules toggled", """
ALTER TABLE app.t DISABLE TRIGGER t_trg;
ALTER TABLE app.u DISABLE RULE u_log;
ALTER TRIGGER t_trg ON app.t RENAME TO t_trigger;
""", False, "", True),
    ("comments the model keeps", """
COMMENT ON TABLE app.u IS 'u';
COMMENT ON COLUMN app.t.v IS 'v';
COMMENT ON INDEX app.t_v_key IS 'unique v';
COMMENT ON CONSTRAINT u_t_id_fkey ON app.u IS 'fk';
COMMENT ON TYPE app.pair IS 'a pair';
COMMENT ON VIEW app.v1 IS 'view';
COMMENT ON SCHEMA side IS 'side';
COMMENT ON FUNCTION app.f(int) IS 'f';
""", False, "", True),
    ("a table others name renamed: rule, function rowtype, view of a view, foreign key", """
ALTER TABLE app.u RENAME TO u2;
ALTER TABLE app.t RENAME COLUMN id TO ident;
ALTER VIEW app.v1 RENAME COLUMN v TO value;
""", False, "", True),
    ("types others name renamed and moved", """
ALTER TYPE app.pair RENAME TO couple;
ALTER TYPE app.state SET SCHEMA side;
ALTER FUNCTION app.f(int) RENAME TO f2;
""", False, "", True),
    ("a table moved to another schema with its sequence, view and trigger", """
ALTER TABLE app.t SET SCHEMA side;
""", False, "", True),
    ("drop and create with the same name; swap names", """
DROP VIEW app.v2;
CREATE TABLE app.v2 (id int);
ALTER TABLE app.owner_of RENAME TO tmp;
ALTER TABLE app.v2 RENAME TO owner_of;
ALTER TABLE app.tmp RENAME TO v2;
""", False, "", True),
    ("set search_path inside the migration, objects made unqualified", """
SET LOCAL search_path = side;
CREATE TABLE unq (id serial PRIMARY KEY, s state);
CREATE INDEX unq_s ON unq (s);
""", False, "", True),
    ("inherit, partition default, index attach", """
CREATE TABLE app.parent (id int);
ALTER TABLE app.v2 INHERIT app.parent;
CREATE TABLE app.p (k int, at date) PARTITION BY LIST (k);
CREATE TABLE app.p1 (k int, at date);
CREATE INDEX p1_k ON app.p1 (k);
CREATE INDEX p_k ON ONLY app.p (k);
ALTER TABLE app.p ATTACH PARTITION app.p1 FOR VALUES IN (1);
ALTER INDEX app.p_k ATTACH PARTITION app.p1_k;
CREATE TABLE app.pd PARTITION OF app.p DEFAULT;
""", False, "", True),
    ("parent renamed: children print it", """
ALTER TABLE app.parent RENAME TO ancestor;
ALTER TABLE app.p RENAME TO parted;
""", False, "", True),
    ("drop cascade takes dependents", """
DROP TYPE app.couple CASCADE;
DROP FUNCTION app.f2(int) CASCADE;
""", False, "", True),
    ("collation, statistics, then renamed", """
CREATE COLLATION app.ci (provider = libc, locale = 'C');
CREATE TABLE app.named (n text COLLATE app.ci, m int);
CREATE STATISTICS app.named_st ON n, m FROM app.named;
ALTER COLLATION app.ci RENAME TO ci2;
ALTER TABLE app.named RENAME COLUMN m TO mm;
""", False, "", True),
    ("reindex concurrently", "REINDEX INDEX CONCURRENTLY side.t_v_key", True, "", False),
    ("a DO block in a second schema", """
DO $$
BEGIN
  FOR i IN 1..3 LOOP
    EXECUTE format('CREATE TABLE side.dyn_%s (id int PRIMARY KEY)', i);
  END LOOP;
  EXECUTE 'ALTER TABLE side.dyn_1 ADD COLUMN extra text DEFAULT ''x''';
  EXECUTE 'DROP TABLE side.dyn_2';
END $$;
""", False, "", True),
    ("materialized view refreshed", """
CREATE MATERIALIZED VIEW app.mv AS SELECT 1 AS one;
""", False, "", True),
    ("refresh", "REFRESH MATERIALIZED VIEW app.mv", False, "", False),
    ("objects naming a composite type's attributes", """
CREATE TYPE app.point2 AS (x int, y int);
CREATE TABLE app.shapes (id int, at app.point2 CHECK ((at).x >= 0), y int DEFAULT 0);
CREATE INDEX shapes_y ON app.shapes (((at).y));
CREATE VIEW app.xs AS SELECT (at).x AS x FROM app.shapes;
""", False, "", True),
    ("views of a function returning a composite type, and of its fields", """
CREATE FUNCTION app.points() RETURNS SETOF app.point2 LANGUAGE sql AS $$ SELECT 1, 2 $$;
CREATE VIEW app.all_points AS SELECT * FROM app.points();
CREATE VIEW app.point_ys AS SELECT (p).y FROM (SELECT app.points() AS p) AS s;
CREATE FUNCTION app.first_x() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT (at).x FROM app.shapes LIMIT 1; END;
""", False, "", True),
    ("a composite type's attribute renamed", """
ALTER TYPE app.point2 RENAME ATTRIBUTE x TO east;
ALTER TYPE app.point2 RENAME ATTRIBUTE y TO north;
""", False, "", True),
    ("objects naming an operator, an operator class, a text search configuration and dictionary, a language", """
CREATE FUNCTION app.same(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT a = b $$;
CREATE OPERATOR app.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = app.same);
CREATE TEXT SEARCH CONFIGURATION app.words (COPY = pg_catalog.simple);
CREATE OPERATOR CLASS app.int_ops FOR TYPE int USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 btint4cmp(int, int);
CREATE TABLE app.docs (id int CHECK (id OPERATOR(app.===) id), body text,
                       words tsvector GENERATED ALWAYS AS (to_tsvector('app.words', body)) STORED);
CREATE TEXT SEARCH DICTIONARY app.plain (TEMPLATE = pg_catalog.simple);
CREATE INDEX docs_id ON app.docs (id app.int_ops);
CREATE INDEX docs_lexemes ON app.docs (ts_lexize('app.plain', body));
CREATE LANGUAGE app_lang HANDLER plpgsql_call_handler;
CREATE FUNCTION app.in_lang() RETURNS int LANGUAGE app_lang AS $$ BEGIN RETURN 1; END $$;
CREATE VIEW app.same_docs AS SELECT id FROM app.docs WHERE id OPERATOR(app.===) 1;
""", False, "", True),
    ("the operator moved; the operator class, configuration, dictionary and language renamed", """
ALTER OPERATOR app.=== (int, int) SET SCHEMA side;
ALTER OPERATOR CLASS app.int_ops USING btree RENAME TO int4_ops_too;
ALTER TEXT SEARCH CONFIGURATION app.words RENAME TO terms;
ALTER TEXT SEARCH DICTIONARY app.plain RENAME TO bare;
ALTER LANGUAGE app_lang RENAME TO app_language;
""", False, "", True),
    ("a list partition of a domain over an enum, a partition detached concurrently", """
CREATE TYPE app.colour AS ENUM ('red', 'blue');
CREATE DOMAIN app.paint AS app.colour;
CREATE TABLE app.by_colour (c app.paint NOT NULL) PARTITION BY LIST (c);
CREATE TABLE app.reds PARTITION OF app.by_colour FOR VALUES IN ('red');
CREATE TABLE app.blues PARTITION OF app.by_colour FOR VALUES IN ('blue');
""", False, "", True),
    ("an enum value a partition bound names renamed", "ALTER TYPE app.colour RENAME VALUE 'red' TO 'crimson'",
     False, "", True),
    ("enum labels inside array, domain-array and composite constants", """
CREATE TABLE app.palettes (cs app.colour[] DEFAULT '{{blue}}', ps app.paint[] DEFAULT '{{blue}}'::app.paint[]);
CREATE TYPE app.swatch AS (c app.colour, n int);
CREATE VIEW app.blue_swatch AS SELECT '(blue,1)'::app.swatch AS s;
""", False, "", True),
    ("the label those constants print renamed", "ALTER TYPE app.colour RENAME VALUE 'blue' TO 'navy'", False, "", True),
    ("range and multirange constants over the enum", """
CREATE TYPE app.colour_range AS RANGE (subtype = app.colour);
CREATE VIEW app.colour_span AS SELECT '[crimson,navy]'::app.colour_range AS r;
CREATE VIEW app.colour_spans AS SELECT '{{[crimson,navy]}}'::app.colour_multirange AS m;
""", False, "", True),
    ("the label a range and a multirange print renamed", "ALTER TYPE app.colour RENAME VALUE 'navy' TO 'azure'",
     False, "", True),
    ("detach concurrently", "ALTER TABLE app.by_colour DETACH PARTITION app.blues CONCURRENTLY", True, "", True),
    ("everything a role owns given back", "REASSIGN OWNED BY {role} TO CURRENT_USER", False, "", True),
    ("a view and a default naming an index by regclass", """
CREATE TABLE app.sized (id int PRIMARY KEY);
CREATE VIEW app.index_sizes AS SELECT pg_relation_size('app.sized_pkey'::regclass) AS bytes;
CREATE TABLE app.watcher (idx regclass DEFAULT 'app.sized_pkey'::regclass);
""", False, "", True),
    ("the index they name renamed", "ALTER INDEX app.sized_pkey RENAME TO sized_key", False, "", True),
    ("a typed table, a join view, a rule and an INSTEAD OF trigger on a view", """
CREATE TYPE app.entry AS (k int, label text);
CREATE TABLE app.entries OF app.entry (PRIMARY KEY (k));
CREATE TABLE app.notes (k int, body text);
CREATE VIEW app.joined AS SELECT * FROM app.entries JOIN app.notes USING (k);
CREATE FUNCTION app.joined_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER joined_ins INSTEAD OF INSERT ON app.joined FOR EACH ROW EXECUTE FUNCTION app.joined_insert();
CREATE RULE joined_del AS ON DELETE TO app.joined DO INSTEAD DELETE FROM app.notes WHERE k = OLD.k;
""", False, "", True),
    ("attributes added through the type, a clashing column added, columns renamed", """
ALTER TYPE app.entry ADD ATTRIBUTE body text CASCADE;
ALTER TYPE app.entry RENAME ATTRIBUTE label TO title CASCADE;
ALTER TABLE app.notes ADD COLUMN title text;
ALTER TABLE app.notes RENAME COLUMN k TO key;
""", False, "", True),
    ("CLUSTER inside a DO block", """
DO $$ BEGIN EXECUTE 'CLUSTER app.entries USING entries_pkey'; END $$;
""", False, "", False),
    ("a function over an enum and a domain, used by a view and a CHECK", """
CREATE TYPE app.mood AS ENUM ('ok', 'sad');
CREATE DOMAIN app.level AS int CHECK (VALUE > 0);
CREATE FUNCTION app.cheerful(m app.mood, l app.level) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT m = 'ok' $$;
CREATE VIEW app.cheer AS SELECT app.cheerful('ok'::app.mood, 1::app.level) AS yes;
CREATE TABLE app.moods (m app.mood, l app.level, CHECK (app.cheerful(m, l)));
""", False, "", True),
    ("the types its signature prints renamed (only the types' rows change)", """
ALTER TYPE app.mood RENAME TO feeling;
ALTER DOMAIN app.level RENAME TO grade;
""", False, "", True),
    ("a schema dropped with everything in it", "DROP SCHEMA side CASCADE", False, "", True),
]


def test_attacks_patched_model_equals_a_full_read(pg, role, reading):
    with psycopg.connect(pg, autocommit=True) as conn:
        try:
            _replay_attacks(conn, role, IncrementalReader(reading(conn)))
        finally:  # the role fixture drops what the role owns: not while objects of others depend on it
            conn.execute("DROP SCHEMA IF EXISTS app, side CASCADE")
            conn.execute("DROP LANGUAGE IF EXISTS app_lang; DROP LANGUAGE IF EXISTS app_language")


def _replay_attacks(conn, role, reader):
    before = None
    for name, sql, outside, expected, changes in ATTACKS:
        text = sql.format(role=role)
        if outside:
            for statement in parse_file(text).statements:
                conn.execute(statement.text)
        else:
            with conn.transaction():
                conn.execute(text)
        patched = reader.read(full=needs_full_read(s.node_kind for s in parse_file(text).statements))
        full = introspect(conn)
        assert reader.last_full_read == expected, name
        assert [c.describe() for c in diff(full, patched)] == [], name
        assert patched.model_dump_json() == full.model_dump_json(), name
        if before is not None:
            assert bool(diff(before, patched)) == bool(changes), name
        if changes is None:
            assert all(patched.tables[key] is table for key, table in before.tables.items()), name
            assert patched.dependencies is before.dependencies, name
        before = patched


# Migrations that only remove a member of a relation: no row of the relation is written, so only
# RELATION_CHANGES_SQL's counts (pg_depend rows naming the relation, its comments) can tell the
# reader to hash it again, and only the count of pg_depend's rows can tell the dependency index that
# an edge went. One removal each, so that none rides on another's written row.
REMOVALS = [
    ("base", """
CREATE TABLE rm_parent (id int PRIMARY KEY, note text, at date);
CREATE TABLE rm_child (id int PRIMARY KEY, parent_id int CONSTRAINT rm_child_parent REFERENCES rm_parent (id),
                       n int CONSTRAINT rm_child_n CHECK (n > 0), s int);
CREATE INDEX rm_child_n_idx ON rm_child (n);
CREATE INDEX rm_child_expr_idx ON rm_child ((n + 1));
CREATE POLICY rm_child_all ON rm_child USING (true);
CREATE FUNCTION rm_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER rm_child_trg BEFORE INSERT ON rm_child FOR EACH ROW EXECUTE FUNCTION rm_trg();
CREATE RULE rm_child_rule AS ON UPDATE TO rm_child DO ALSO NOTIFY rm_changed;
CREATE SEQUENCE rm_seq OWNED BY rm_child.s;
CREATE SEQUENCE rm_seq_dropped OWNED BY rm_child.s;
CREATE TABLE rm_heir (extra int) INHERITS (rm_parent);
CREATE TABLE rm_parted (k int) PARTITION BY LIST (k);
CREATE TABLE rm_part PARTITION OF rm_parted FOR VALUES IN (1);
COMMENT ON TABLE rm_child IS 'c';
COMMENT ON COLUMN rm_child.n IS 'n';
COMMENT ON INDEX rm_child_n_idx IS 'i';
COMMENT ON CONSTRAINT rm_child_n ON rm_child IS 'k';
CREATE VIEW rm_view AS SELECT id, note FROM rm_parent;
ALTER TABLE rm_child ALTER COLUMN s SET DEFAULT nextval('rm_seq');
"""),
    ("a comment (the dependency index's first refresh reads every edge)", "COMMENT ON TABLE rm_parent IS 'p'"),
    ("a view no longer reads a table: its edges go, none comes", "CREATE OR REPLACE VIEW rm_view AS SELECT 1 AS id, 'x' AS note"),
    ("a default calling a sequence dropped: its edge goes", "ALTER TABLE rm_child ALTER COLUMN s DROP DEFAULT"),
    ("a policy dropped", "DROP POLICY rm_child_all ON rm_child"),
    ("a trigger dropped", "DROP TRIGGER rm_child_trg ON rm_child"),
    ("a rule dropped", "DROP RULE rm_child_rule ON rm_child"),
    ("a table comment removed", "COMMENT ON TABLE rm_child IS NULL"),
    ("a column comment removed", "COMMENT ON COLUMN rm_child.n IS NULL"),
    ("an index comment removed", "COMMENT ON INDEX rm_child_n_idx IS NULL"),
    ("a constraint comment removed", "COMMENT ON CONSTRAINT rm_child_n ON rm_child IS NULL"),
    ("an index dropped", "DROP INDEX rm_child_n_idx"),
    ("an expression index dropped", "DROP INDEX rm_child_expr_idx"),
    ("a check dropped", "ALTER TABLE rm_child DROP CONSTRAINT rm_child_n"),
    ("a foreign key dropped (the referenced table loses its triggers)", "ALTER TABLE rm_child DROP CONSTRAINT rm_child_parent"),
    ("an owned sequence disowned", "ALTER SEQUENCE rm_seq OWNED BY NONE"),
    ("an owned sequence dropped", "DROP SEQUENCE rm_seq_dropped"),
    ("an inheritance removed", "ALTER TABLE rm_heir NO INHERIT rm_parent"),
    ("a partition detached", "ALTER TABLE rm_parted DETACH PARTITION rm_part"),
]


def test_removals_alone_are_read_again(pg, reading):
    with psycopg.connect(pg, autocommit=True) as conn:
        try:
            reader = IncrementalReader(reading(conn))
            before = None
            for name, sql in REMOVALS:
                with conn.transaction():
                    conn.execute(sql)
                patched = reader.read()
                full = introspect(conn)
                assert reader.last_full_read == ("first read" if before is None else ""), name
                assert [c.describe() for c in diff(full, patched)] == [], name
                assert patched.model_dump_json() == full.model_dump_json(), name
                if before is not None:
                    assert diff(before, patched), f"{name}: the removal changed nothing the model holds"
                before = patched
        finally:
            conn.execute("DROP VIEW IF EXISTS rm_view; DROP TABLE IF EXISTS rm_child, rm_heir, rm_parent, rm_parted, rm_part CASCADE; "
                         "DROP SEQUENCE IF EXISTS rm_seq; DROP FUNCTION IF EXISTS rm_trg()")


def test_dependents_are_read_again_only_when_the_names_they_print_change(pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        try:
            conn.execute("CREATE TABLE nm_p (id int PRIMARY KEY, v text); "
                         "CREATE TABLE nm_c (p_id int REFERENCES nm_p (id)); CREATE VIEW nm_v AS SELECT id, v FROM nm_p")
            reader = IncrementalReader(conn)
            first = reader.read()
            conn.execute("ALTER TABLE nm_p ADD COLUMN w int; CREATE INDEX nm_p_w ON nm_p (w)")
            widened = reader.read()
            assert widened == introspect(conn)
            assert widened.tables["public.nm_p"] is not first.tables["public.nm_p"]
            assert widened.tables["public.nm_c"] is first.tables["public.nm_c"]  # its foreign key prints nm_p's names only
            assert widened.views["public.nm_v"] is first.views["public.nm_v"]
            conn.execute("ALTER TABLE nm_p RENAME COLUMN id TO ident")
            renamed = reader.read()
            assert renamed == introspect(conn)
            assert renamed.tables["public.nm_c"] is not widened.tables["public.nm_c"]
        finally:
            conn.execute("DROP VIEW IF EXISTS nm_v; DROP TABLE IF EXISTS nm_c, nm_p")


def test_a_reader_on_its_own_connection_keeps_its_queries_prepared(pg):
    """psycopg deallocates every statement it prepared on a connection after a ROLLBACK (or an ALTER
    or DROP) there: each read's snapshot ends with COMMIT, so its queries are parsed and planned once."""
    def prepared(conn):
        return {name for (name,) in conn.execute("SELECT name FROM pg_prepared_statements", prepare=False)}

    with psycopg.connect(pg, autocommit=True) as conn, psycopg.connect(pg, autocommit=True) as own:
        try:
            conn.execute("CREATE TABLE kp (id int PRIMARY KEY)")
            reader = IncrementalReader(own)
            reader.read()
            conn.execute("ALTER TABLE kp ADD COLUMN v text")
            reader.read()
            kept = prepared(own)
            conn.execute("ALTER TABLE kp ADD COLUMN w text; DROP TABLE kp")
            assert reader.read() == introspect(conn)
            assert kept and kept <= prepared(own)
        finally:
            conn.execute("DROP TABLE IF EXISTS kp")
