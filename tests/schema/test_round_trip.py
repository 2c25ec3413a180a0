"""Round trip on a real PostgreSQL: applying diff(a, b) to a yields b exactly, and the generated
rollback brings a back exactly (introspected and compared)."""

from pathlib import Path

import psycopg
import pytest

from migguard.pg.introspect import introspect
from migguard.schema.diff import diff, forward_script, reverse_script

pytestmark = pytest.mark.pg

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "db" / "migrations").glob("*.sql"))

BASE = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE tenants (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE notes (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL REFERENCES tenants (id),
    body text NOT NULL DEFAULT '',
    mood mood,
    legacy int,
    size varchar(20)
);
CREATE INDEX notes_tenant_idx ON notes (tenant_id);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notes USING (tenant_id = current_setting('app.tenant_id')::bigint);
CREATE VIEW note_bodies AS SELECT id, body FROM notes;
CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM notes $$;
COMMENT ON TABLE notes IS 'tenant notes';
"""

CHANGES = """
ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';
ALTER TABLE notes DROP COLUMN legacy;
ALTER TABLE notes ALTER COLUMN size TYPE text;
ALTER TABLE notes ALTER COLUMN body DROP DEFAULT;
ALTER TABLE notes ADD COLUMN archived boolean NOT NULL DEFAULT false;
ALTER TABLE notes ADD CONSTRAINT body_short CHECK (char_length(body) < 10000) NOT VALID;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON notes;
CREATE POLICY tenant_isolation ON notes USING (tenant_id = current_setting('app.tenant_id')::bigint)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::bigint);
CREATE INDEX notes_archived_idx ON notes (tenant_id) WHERE NOT archived;
DROP INDEX notes_tenant_idx;
CREATE OR REPLACE VIEW note_bodies AS SELECT id, body, archived FROM notes;
CREATE OR REPLACE FUNCTION note_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM notes WHERE NOT archived $$;
CREATE TABLE tags (id bigint PRIMARY KEY, note_id bigint REFERENCES notes (id) ON DELETE CASCADE, label text COLLATE "C");
CREATE SCHEMA audit;
CREATE TABLE audit.events (at timestamptz NOT NULL, tenant_id bigint) PARTITION BY RANGE (at);
CREATE TABLE audit.events_2026 PARTITION OF audit.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
COMMENT ON TABLE notes IS NULL;
COMMENT ON COLUMN notes.body IS 'markdown';
"""


def _database(cluster, name: str, sql: str) -> str:
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = cluster.url(name)
    if sql.strip():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)
    return url


def _round_trip(cluster, before_sql: str, after_sql: str) -> None:
    a = _database(cluster, "rt_before", before_sql)
    b = _database(cluster, "rt_after", after_sql)
    model_a, model_b = introspect(a), introspect(b)
    changes = diff(model_a, model_b)
    assert changes, "the two schemas differ, so the diff must not be empty"
    with psycopg.connect(a) as conn:  # one transaction, as the apply runner does
        conn.execute(forward_script(changes))
    migrated = introspect(a)
    assert diff(migrated, model_b) == [], [c.describe() for c in diff(migrated, model_b)]
    rollback, irreversible = reverse_script(changes)
    with psycopg.connect(a) as conn:
        conn.execute(rollback)
    restored = introspect(a)
    # Only what the rollback said it cannot reverse may remain (an enum value PostgreSQL cannot remove).
    leftovers = {c.object for c in diff(restored, model_a)}
    allowed = {c.object.rsplit(".", 1)[0] if c.kind == "add enum value" else c.object for c in irreversible}
    assert leftovers <= allowed, sorted(leftovers - allowed)
    if not irreversible:
        assert restored.fingerprint() == model_a.fingerprint()


def test_round_trip_of_a_broad_change(pg_cluster):
    _round_trip(pg_cluster, BASE, BASE + CHANGES)


def test_round_trip_from_empty_to_the_example_store(pg_cluster):
    everything = "\n".join(path.read_text() for path in EXAMPLES)
    _round_trip(pg_cluster, "", everything)


def test_round_trip_of_the_pending_example_migrations(pg_cluster):
    applied = "\n".join(path.read_text() for path in EXAMPLES[:6])
    pending = "\n".join(path.read_text() for path in EXAMPLES[6:])
    _round_trip(pg_cluster, applied, applied + pending)
