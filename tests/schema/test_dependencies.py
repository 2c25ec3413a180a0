"""Dependency edges: introspection reads PostgreSQL's pg_depend (and pg_rewrite for views) into
`SchemaModel.dependencies`, which the diff orders its changes by and which is no part of any
comparison."""

from __future__ import annotations

import psycopg
import pytest

from migguard.pg.introspect import introspect
from migguard.schema.model import SchemaModel

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE people (id int PRIMARY KEY, name text, feeling mood, tags mood[]);
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(t);
CREATE FUNCTION loud_name(p people) RETURNS text LANGUAGE sql STABLE RETURN shout(p.name);
CREATE FUNCTION positive(i int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT i > 0 $$;
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
ALTER TABLE people ADD CONSTRAINT id_positive CHECK (positive(id));
ALTER TABLE people ADD COLUMN label text DEFAULT shout('x');
CREATE INDEX people_loud ON people (shout(name));
CREATE VIEW names AS SELECT id, shout(name) AS name FROM people;
CREATE VIEW names_again AS SELECT name FROM names;
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
CREATE POLICY positive_only ON people USING (positive(id));
CREATE TRIGGER people_stamp BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TABLE log (id int);
CREATE RULE log_people AS ON INSERT TO people DO ALSO INSERT INTO log VALUES (NEW.id);
"""


@pytest.mark.pg
def test_introspection_reads_what_each_object_uses(pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(SCHEMA)
    edges = set(introspect(pg).dependencies)
    expected = {
        (("view", "public", "names"), ("column", "public", "people", "id")),
        (("view", "public", "names"), ("column", "public", "people", "name")),
        (("view", "public", "names"), ("function", "public", "shout", "t text")),
        (("view", "public", "names_again"), ("view", "public", "names")),
        (("function", "public", "loud_name", "p public.people"), ("table", "public", "people")),
        (("function", "public", "loud_name", "p public.people"), ("function", "public", "shout", "t text")),
        (("constraint", "public", "people", "id_positive"), ("function", "public", "positive", "i integer")),
        (("column", "public", "people", "label"), ("function", "public", "shout", "t text")),
        (("column", "public", "people", "feeling"), ("type", "public", "mood")),
        (("column", "public", "people", "tags"), ("type", "public", "mood")),  # an array is its element
        (("index", "public", "people_loud"), ("function", "public", "shout", "t text")),
        (("policy", "public", "people", "positive_only"), ("function", "public", "positive", "i integer")),
        (("trigger", "public", "people", "people_stamp"), ("function", "public", "stamp", "")),
        (("rule", "public", "people", "log_people"), ("column", "public", "log", "id")),
    }
    assert expected <= edges, sorted(expected - edges)
    # a plpgsql body is not bound: PostgreSQL records nothing it calls
    assert not any(a[0] == "function" and a[2] == "stamp" for a, _ in edges)
    assert all(a != b for a, b in edges)


def test_dependencies_are_no_part_of_the_schema():
    edge = (("view", "public", "v"), ("table", "public", "t"))
    bare, known = SchemaModel(), SchemaModel(dependencies=(edge,))
    assert bare.fingerprint() == known.fingerprint()
    assert SchemaModel.from_json(known.to_json()).dependencies == (edge,)
    assert known.without_schemas("public").dependencies == ()
