"""Dependency edges: introspection reads PostgreSQL's pg_depend (and pg_rewrite for views) into
`SchemaModel.dependencies`, which the diff orders its changes by and which is no part of any
comparison."""

from __future__ import annotations

import psycopg
import pytest

from migguard.pg.introspect import introspect
from migguard.schema.diff import diff
from migguard.schema.model import Column, Function, SchemaModel, Table, View
from tests.schema.roundtrip_kit import round_trip_both_ways

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
        (("view", "public", "names"), ("function", "public", "shout(t text)")),
        (("view", "public", "names_again"), ("view", "public", "names")),
        (("function", "public", "loud_name(p public.people)"), ("table", "public", "people")),
        (("function", "public", "loud_name(p public.people)"), ("function", "public", "shout(t text)")),
        (("constraint", "public", "people", "id_positive"), ("function", "public", "positive(i integer)")),
        (("column", "public", "people", "label"), ("function", "public", "shout(t text)")),
        (("column", "public", "people", "feeling"), ("type", "public", "mood")),
        (("column", "public", "people", "tags"), ("type", "public", "mood")),  # an array is its element
        (("index", "public", "people_loud"), ("function", "public", "shout(t text)")),
        (("policy", "public", "people", "positive_only"), ("function", "public", "positive(i integer)")),
        (("trigger", "public", "people", "people_stamp"), ("function", "public", "stamp()")),
        (("rule", "public", "people", "log_people"), ("column", "public", "log", "id")),
    }
    assert expected <= edges, sorted(expected - edges)
    # a plpgsql body is not bound: PostgreSQL records nothing it calls
    assert not any(a[0] == "function" and a[2] == "stamp()" for a, _ in edges)
    assert all(a != b for a, b in edges)


@pytest.mark.pg
def test_an_index_uses_the_columns_its_expressions_and_predicate_read_not_its_plain_key_columns(pg):
    """pg_depend records both as automatic: a plain key column once, each expression list's columns
    once more. A retyped column an expression reads keeps PostgreSQL's added cast, so the diff
    recreates exactly these indexes around the change (and leaves plain ones to ALTER TYPE)."""
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("""
CREATE TABLE t (a int, b int, c text, d timestamptz);
CREATE INDEX t_plain ON t (a, b) INCLUDE (c);
CREATE INDEX t_expression ON t (lower(c));
CREATE INDEX t_partial ON t (a) WHERE d IS NULL;
CREATE INDEX t_key_and_expression ON t (b, (b + a));
""")
    used = {(dependent[2], referenced[3]) for dependent, referenced in introspect(pg).dependencies
            if dependent[0] == "index" and referenced[0] == "column"}
    assert used == {("t_expression", "c"), ("t_partial", "d"), ("t_key_and_expression", "a"),
                    ("t_key_and_expression", "b")}


@pytest.mark.pg
def test_a_retyped_column_recreates_the_expression_and_partial_indexes_that_read_it(pg_cluster):
    before = "CREATE TABLE t (a int, b int, d int); CREATE INDEX t_sum ON t ((a + b)); " \
             "CREATE INDEX t_partial ON t (b) WHERE d > 0; CREATE INDEX t_plain ON t (a);"
    after = before.replace("a int", "a bigint").replace("d int", "d bigint")
    forward = round_trip_both_ways(pg_cluster, before, after)
    kinds = [(c.kind, c.object) for c in forward if c.kind.endswith("index")]
    assert sorted(kinds) == [("create index", "public.t_partial"), ("create index", "public.t_sum"),
                             ("drop index", "public.t_partial"), ("drop index", "public.t_sum")]


def test_dependencies_are_no_part_of_the_schema():
    edge = (("view", "public", "v"), ("table", "public", "t"))
    bare, known = SchemaModel(), SchemaModel(dependencies=(edge,))
    assert bare.fingerprint() == known.fingerprint()
    assert SchemaModel.from_json(known.to_json()).dependencies == (edge,)
    assert known.without_schemas("public").dependencies == ()


# --- the diff orders by the edges -------------------------------------------------------------------


def _function(returns: str) -> Function:
    return Function(schema_name="public", name="f", arguments="i integer", returns=returns,
                    definition=f"CREATE OR REPLACE FUNCTION public.f(i integer)\n RETURNS {returns}\n LANGUAGE sql\n"
                               "AS $function$ SELECT i $function$\n")


def _hand_built(returns: str, edges: tuple = ()) -> SchemaModel:
    function = _function(returns)
    view = View(schema_name="public", name="v", definition=" SELECT public.f(1) AS one;")
    reader = View(schema_name="public", name="w", definition=" SELECT v.one FROM public.v;")
    return SchemaModel(functions={function.signature: function}, views={"public.v": view, "public.w": reader},
                       dependencies=edges)


def test_the_graph_orders_a_hand_built_model():
    """A view chain w → v → f: recreating f (its result changes) drops w then v before it and
    creates v then w after it, because the edges say so; without edges nothing reads f."""
    edges = ((("view", "public", "v"), ("function", "public", "f(i integer)")),
             (("view", "public", "w"), ("view", "public", "v")))
    changes = diff(_hand_built("integer", edges), _hand_built("bigint", edges))
    assert [(c.kind, c.object) for c in changes] == [
        ("drop view", "public.w"), ("drop view", "public.v"), ("recreate function", "public.f(i integer)"),
        ("recreate dependent view", "public.v"), ("recreate dependent view", "public.w")]
    assert [c.kind for c in diff(_hand_built("integer"), _hand_built("bigint"))] == ["recreate function"]


RETYPED = """
CREATE TABLE orders (id int PRIMARY KEY, total {type}, note text);
CREATE VIEW totals AS SELECT id, total FROM orders;
CREATE VIEW big_totals AS SELECT id FROM totals WHERE total > 100;
CREATE VIEW notes AS SELECT id, note FROM orders;
"""


@pytest.mark.pg
def test_a_view_over_a_column_whose_type_changes_round_trips_both_ways(pg_cluster):
    """The views that read the column (and the view over them) go before the type change and come
    back after it, both ways; a view that reads another column of the table stays."""
    changes = round_trip_both_ways(pg_cluster, RETYPED.format(type="int"), RETYPED.format(type="numeric(12,2)"))
    assert [(c.kind, c.object) for c in changes] == [
        ("drop view", "public.big_totals"), ("drop view", "public.totals"),
        ("alter column type", "public.orders.total"),
        ("recreate dependent view", "public.totals"), ("create view", "public.big_totals")]  # `> 100::numeric`


USED_FUNCTION = """
CREATE FUNCTION score(i int) RETURNS {returns} LANGUAGE sql IMMUTABLE AS $$ SELECT i * 2 $$;
CREATE TABLE players (id int PRIMARY KEY CHECK (score(id) >= 0), points {returns} DEFAULT score(21));
CREATE VIEW scores AS SELECT id, score(id) AS score FROM players;
CREATE VIEW top_scores AS SELECT id FROM scores WHERE score > 10;
ALTER TABLE players ENABLE ROW LEVEL SECURITY;
CREATE POLICY scored ON players USING (score(id) > 0);
CREATE INDEX players_score ON players (score(id));
"""


@pytest.mark.pg
def test_a_function_used_by_a_view_a_policy_a_check_and_a_default_is_recreated_around_them(pg_cluster):
    """score() changes its result type (DROP FUNCTION + CREATE): PostgreSQL refuses the drop while
    anything uses it, so the view chain, the policy, the CHECK, the index and the default go before
    and come back after, as pg_depend lists them."""
    changes = round_trip_both_ways(pg_cluster, USED_FUNCTION.format(returns="int"),
                                   USED_FUNCTION.format(returns="bigint"))
    kinds = [(c.kind, c.object) for c in changes]
    recreate = kinds.index(("recreate function", "public.score(i integer)"))
    for dropped in [("drop view", "public.top_scores"), ("drop view", "public.scores"),
                    ("drop policy", "public.players.scored"), ("drop constraint", "public.players.players_id_check"),
                    ("drop index", "public.players_score")]:
        assert kinds.index(dropped) < recreate, dropped
    for created in [("recreate dependent view", "public.scores"), ("recreate dependent view", "public.top_scores"),
                    ("create policy", "public.players.scored"), ("add constraint", "public.players.players_id_check"),
                    ("create index", "public.players_score")]:
        assert kinds.index(created) > recreate, created
    assert kinds.index(("recreate dependent view", "public.scores")) < kinds.index(
        ("recreate dependent view", "public.top_scores"))
    assert kinds.index(("drop column default", "public.players.points")) < recreate < kinds.index(
        ("alter column default", "public.players.points"))
    # the column's own type change (int → bigint) neither keeps nor sets the default the pair moves
    retype = changes[kinds.index(("alter column type", "public.players.points"))]
    assert "SET DEFAULT" not in retype.forward + retype.reverse


CHAIN = """
CREATE FUNCTION rate(i int) RETURNS {returns} LANGUAGE sql IMMUTABLE AS $$ SELECT i $$;
CREATE TABLE items (id int PRIMARY KEY);
CREATE VIEW rated AS SELECT id, rate(id) AS rate FROM items;
CREATE VIEW rated_again AS SELECT id FROM rated;
CREATE VIEW unrelated AS SELECT id FROM items;
"""


@pytest.mark.pg
def test_a_view_chain_over_a_recreated_function_is_rebuilt_in_order(pg_cluster):
    changes = round_trip_both_ways(pg_cluster, CHAIN.format(returns="int"), CHAIN.format(returns="numeric"))
    assert [(c.kind, c.object) for c in changes] == [
        ("drop view", "public.rated_again"), ("drop view", "public.rated"), ("recreate function", "public.rate(i integer)"),
        ("recreate dependent view", "public.rated"), ("recreate dependent view", "public.rated_again")]


# Two schemas about thirty changes apart, over twenty kinds of object: a view over a column whose
# type changes (and back), a function bound to a table's row type, a materialized view, a rule, a
# policy, a trigger, statistics, types, a domain, a sequence, a collation, grants and comments.
MANY_BEFORE = """
CREATE SCHEMA app;
CREATE TYPE app.status AS ENUM ('new', 'done');
CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);
CREATE TYPE app.pair AS (a int, b text);
CREATE SEQUENCE app.counter;
CREATE COLLATION app.plain FROM "C";
CREATE TABLE app.accounts (id int PRIMARY KEY, name text NOT NULL, balance int, status app.status DEFAULT 'new');
CREATE TABLE app.entries (id int PRIMARY KEY, account_id int REFERENCES app.accounts, amount int);
CREATE INDEX entries_amount ON app.entries (amount);
CREATE FUNCTION app.double(i int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT i * 2 $$;
CREATE VIEW app.balances AS SELECT id, balance FROM app.accounts;
CREATE VIEW app.rich AS SELECT id FROM app.balances WHERE balance > 1000;
CREATE MATERIALIZED VIEW app.entry_totals AS SELECT account_id, sum(amount) AS total FROM app.entries GROUP BY account_id;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON app.accounts FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON app.accounts USING (balance >= 0);
CREATE TABLE app.audit (id int, note text);
CREATE RULE audit_entries AS ON INSERT TO app.entries DO ALSO INSERT INTO app.audit VALUES (NEW.id, 'entry');
CREATE STATISTICS app.accounts_stats ON name, status FROM app.accounts;
COMMENT ON TABLE app.accounts IS 'the accounts';
CREATE PROCEDURE app.noop() LANGUAGE sql AS $$ SELECT 1 $$;
"""

MANY_AFTER = """
CREATE SCHEMA app;
CREATE SCHEMA archive;
CREATE TYPE app.status AS ENUM ('new', 'done', 'void');
CREATE DOMAIN app.positive AS int DEFAULT 1 CHECK (VALUE > 0);
CREATE TYPE app.pair AS (a int, b text, c date);
CREATE SEQUENCE app.counter INCREMENT 5;
CREATE COLLATION app.plain FROM "C";
COMMENT ON COLLATION app.plain IS 'bytewise';
CREATE TABLE app.accounts (id int PRIMARY KEY, name text NOT NULL CHECK (name <> ''), balance bigint,
                           status app.status DEFAULT 'done');
CREATE TABLE app.entries (id int PRIMARY KEY, account_id int NOT NULL REFERENCES app.accounts, amount numeric(12, 2),
                          memo text);
CREATE INDEX entries_account ON app.entries (account_id);
CREATE TABLE app.payments (id int PRIMARY KEY, account_id int REFERENCES app.accounts, amount app.positive);
CREATE TABLE archive.accounts (id int);
CREATE FUNCTION app.double(i int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT i + i $$;
CREATE FUNCTION app.score(a app.accounts) RETURNS bigint LANGUAGE sql STABLE RETURN a.balance * 2;
CREATE VIEW app.balances AS SELECT id, balance FROM app.accounts;
CREATE VIEW app.rich AS SELECT id FROM app.balances WHERE balance > 1000;
CREATE VIEW app.scores AS SELECT a.id, app.score(a) AS score FROM app.accounts a;
GRANT SELECT ON app.balances TO PUBLIC;
CREATE MATERIALIZED VIEW app.entry_totals AS SELECT account_id, sum(amount) AS total FROM app.entries GROUP BY account_id;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE INSERT OR UPDATE ON app.accounts FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON app.accounts USING (balance > -100);
CREATE TABLE app.audit (id int, note text);
CREATE RULE audit_entries AS ON INSERT TO app.entries DO ALSO INSERT INTO app.audit VALUES (NEW.id, 'entry 2');
CREATE STATISTICS app.accounts_stats ON name, status FROM app.accounts;
COMMENT ON TABLE app.accounts IS 'the accounts, and their balances';
"""


@pytest.mark.pg
def test_thirty_changes_over_twenty_kinds_round_trip_both_ways(pg_cluster):
    changes = round_trip_both_ways(pg_cluster, MANY_BEFORE, MANY_AFTER)
    assert len(changes) >= 30
    kinds = [(c.kind, c.object) for c in changes]
    retype = kinds.index(("alter column type", "app.accounts.balance"))
    assert kinds.index(("drop view", "app.rich")) < kinds.index(("drop view", "app.balances")) < retype
    assert kinds.index(("drop policy", "app.accounts.own")) < retype < kinds.index(("create policy", "app.accounts.own"))
    assert retype < kinds.index(("create view", "app.balances")) < kinds.index(("recreate dependent view", "app.rich"))
    assert kinds.index(("drop view", "app.entry_totals")) < kinds.index(("alter column type", "app.entries.amount")) \
        < kinds.index(("recreate dependent view", "app.entry_totals"))
    assert kinds.index(("create function", "app.score(a app.accounts)")) < kinds.index(("create view", "app.scores"))


BOUND_BODY = """
CREATE TABLE ledger (id int, amount {type});
CREATE FUNCTION total() RETURNS numeric LANGUAGE sql STABLE BEGIN ATOMIC SELECT sum(amount) FROM ledger; END;
REVOKE EXECUTE ON FUNCTION total() FROM PUBLIC;
CREATE VIEW report AS SELECT total() AS total;
"""


@pytest.mark.pg
def test_a_sql_standard_body_over_a_retyped_column_is_recreated_around_it_with_its_grants(pg_cluster):
    """PostgreSQL refuses to retype a column a BEGIN ATOMIC body reads: the function (and the view
    that calls it) go before the type change and come back after it, grants as they were."""
    changes = round_trip_both_ways(pg_cluster, BOUND_BODY.format(type="int"), BOUND_BODY.format(type="numeric"))
    kinds = [(c.kind, c.object) for c in changes]
    retype = kinds.index(("alter column type", "public.ledger.amount"))
    assert kinds.index(("drop view", "public.report")) < kinds.index(("drop function", "public.total()")) < retype
    assert retype < kinds.index(("recreate dependent function", "public.total()")) < kinds.index(
        ("recreate dependent view", "public.report"))


def test_an_edge_orders_a_default_after_the_bound_function_it_calls_and_a_circle_is_cut_where_it_closes():
    """A default calling a function bound to another table (built after the tables) still comes
    after that function: creating the table waits for it. Edges that make a circle (no real
    database has one) do not lose a change."""
    rows = Function(schema_name="public", name="newest", arguments="", returns="bigint",
                    definition="CREATE OR REPLACE FUNCTION public.newest()\n RETURNS bigint\n LANGUAGE sql\n"
                               "RETURN (SELECT max(id) FROM public.events)\n")
    events = Table(schema_name="public", name="events",
                   columns={"id": Column(name="id", position=1, type="bigint")})
    users = Table(schema_name="public", name="users",
                  columns={"seen": Column(name="seen", position=1, type="bigint", default="public.newest()")})
    edges = ((("function", "public", "newest()"), ("column", "public", "events", "id")),
             (("column", "public", "users", "seen"), ("function", "public", "newest()")))
    after = SchemaModel(tables={"public.events": events, "public.users": users},
                        functions={rows.signature: rows}, dependencies=edges)
    created = [c.object for c in diff(SchemaModel(), after) if c.kind.startswith("create")]
    assert created == ["public.events", "public.newest()", "public.users"]

    circle = edges + ((("column", "public", "events", "id"), ("column", "public", "users", "seen")),)
    changes = diff(SchemaModel(), after.model_copy(update={"dependencies": circle}))
    assert sorted(c.object for c in changes if c.kind.startswith("create")) == sorted(created)
