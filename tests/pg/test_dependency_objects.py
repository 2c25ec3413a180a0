"""pg/dependencies: a whole read finds the objects of the edges on the server
(SCHEMA_DEPENDENCY_ALL_OBJECTS_SQL, sent ahead with the rest of the read); the incremental reader
names them in array parameters (SCHEMA_DEPENDENCY_OBJECTS_SQL). Both must resolve every edge to
the same node and owner, for every kind of object an edge can name."""

from __future__ import annotations

import psycopg
import pytest

from migguard.pg.dependencies import DependencyIndex, _keys
from migguard.pg.introspect import catalog_snapshot

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE SCHEMA app;
CREATE TYPE app.state AS ENUM ('open', 'paid');
CREATE DOMAIN app.cents AS bigint CONSTRAINT cents_positive CHECK (VALUE >= 0);
CREATE TYPE app.pair AS (a int, b app.state);
CREATE SEQUENCE app.numbers;
CREATE FUNCTION app.positive(v bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT v >= 0 $$;
CREATE TABLE app.invoices (
    id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, amount app.cents CHECK (app.positive(amount)),
    state app.state NOT NULL DEFAULT 'open', number int DEFAULT nextval('app.numbers'), pairs app.pair[],
    "Odd.Name" text
);
CREATE INDEX invoices_lower ON app.invoices (lower("Odd.Name")) WHERE amount > 0;
CREATE VIEW app.open_invoices AS SELECT id, tenant_id, amount FROM app.invoices WHERE state = 'open';
CREATE RULE no_delete AS ON DELETE TO app.invoices DO INSTEAD NOTHING;
ALTER TABLE app.invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_tenant ON app.invoices USING (tenant_id = current_setting('app.tenant')::bigint AND app.positive(1));
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER touch BEFORE UPDATE ON app.invoices FOR EACH ROW EXECUTE FUNCTION app.touch();
"""


def test_the_server_found_objects_are_those_the_parameters_name(pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(SCHEMA)
        with catalog_snapshot(conn) as reader:
            whole = DependencyIndex.read(reader)
            by_parameters = DependencyIndex()
            by_parameters._edges = whole._edges
            by_parameters._resolve(reader, _keys(whole._edges))
    assert whole._nodes == by_parameters._nodes
    kinds = {node[0] for node, _owner in whole._nodes.values() if node is not None}
    assert {"table", "column", "view", "function", "type", "index", "rule", "policy", "trigger",
            "constraint", "sequence"} <= kinds
    assert whole.pairs() and whole.pairs() == by_parameters.pairs()
