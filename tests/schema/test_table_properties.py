"""UNLOGGED, reloptions, REPLICA IDENTITY, statistics targets and INHERITS: each change is reported,
applied and reversed exactly (pure model tests, then on a real PostgreSQL)."""

from __future__ import annotations

import pytest

from migguard.schema.diff import diff, forward_script
from migguard.schema.model import Column, SchemaModel, Table
from tests.schema.roundtrip_kit import round_trip_both_ways

ID = Column(name="id", position=1, type="bigint", nullable=False)
BODY = Column(name="body", position=2, type="text")


def _model(**table: object) -> SchemaModel:
    t = Table(schema_name="public", name="events", columns={"id": ID, "body": BODY}).model_copy(update=table)
    return SchemaModel(tables={t.qualified_name: t})


@pytest.mark.parametrize(("before", "after", "line", "forward", "reverse"), [
    ({}, {"persistence": "unlogged"}, "set unlogged public.events: persistence permanent → unlogged",
     "ALTER TABLE public.events SET UNLOGGED;", "ALTER TABLE public.events SET LOGGED;"),
    ({"options": ("autovacuum_enabled=false", "fillfactor=70")}, {"options": ("fillfactor=80",)},
     "alter table options public.events: options (autovacuum_enabled=false, fillfactor=70) → (fillfactor=80)",
     "ALTER TABLE public.events SET (fillfactor='80');\nALTER TABLE public.events RESET (autovacuum_enabled);",
     "ALTER TABLE public.events SET (autovacuum_enabled='false', fillfactor='70');"),
    ({}, {"replica_identity": "full"}, "alter replica identity public.events: replica_identity default → full",
     "ALTER TABLE public.events REPLICA IDENTITY FULL;", "ALTER TABLE public.events REPLICA IDENTITY DEFAULT;"),
    ({"replica_identity": "nothing"}, {"replica_identity": "index", "replica_identity_index": "events_id_key"},
     ("alter replica identity public.events: replica_identity nothing → index; "
      "replica_identity_index none → events_id_key"),
     "ALTER TABLE public.events REPLICA IDENTITY USING INDEX events_id_key;",
     "ALTER TABLE public.events REPLICA IDENTITY NOTHING;"),
    ({}, {"inherits": ("public.base",)}, "inherit public.events: inherits () → (public.base)",
     "ALTER TABLE public.events INHERIT public.base;", "ALTER TABLE public.events NO INHERIT public.base;"),
])
def test_a_table_property_change_is_reported_with_its_reverse(before, after, line, forward, reverse):
    changes = diff(_model(**before), _model(**after))
    assert [(c.describe(), c.forward, c.reverse) for c in changes] == [(line, forward, reverse)]
    back = diff(_model(**after), _model(**before))
    assert [(c.forward, c.reverse) for c in back] == [(reverse, forward)]


def test_a_statistics_target_is_a_column_change_and_survives_create_table():
    tuned = {"columns": {"id": ID, "body": BODY.model_copy(update={"statistics": 500})}}
    [change] = diff(_model(), _model(**tuned))
    assert change.describe() == "alter column statistics public.events.body: statistics none → 500"
    assert (change.forward, change.reverse) == ("ALTER TABLE public.events ALTER COLUMN body SET STATISTICS 500;",
                                                "ALTER TABLE public.events ALTER COLUMN body SET STATISTICS -1;")
    created = forward_script(diff(SchemaModel(), _model(persistence="unlogged", options=("fillfactor=70",), **tuned)))
    assert created.startswith("CREATE UNLOGGED TABLE public.events (")
    assert ") WITH (fillfactor='70');" in created
    assert "ALTER TABLE public.events ALTER COLUMN body SET STATISTICS 500;" in created


def test_a_dropped_column_comes_back_with_its_statistics_target():
    tuned = {"columns": {"id": ID, "body": BODY.model_copy(update={"statistics": 500})}}
    [drop] = diff(_model(**tuned), _model(columns={"id": ID}))
    assert drop.reverse == ("ALTER TABLE public.events ADD COLUMN body text;\n"
                            "ALTER TABLE public.events ALTER COLUMN body SET STATISTICS 500;")


BASE = """
CREATE TABLE base (id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), body text,
                     CONSTRAINT events_id_key UNIQUE (id));
CREATE TABLE audit (id bigint PRIMARY KEY, body text);
"""

CASES = {
    "unlogged": "ALTER TABLE audit SET UNLOGGED;",
    "reloptions": "ALTER TABLE events SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01);",
    "replica identity full": "ALTER TABLE audit REPLICA IDENTITY FULL;",
    "replica identity index": "ALTER TABLE events REPLICA IDENTITY USING INDEX events_id_key;",
    "statistics": "ALTER TABLE events ALTER COLUMN body SET STATISTICS 1000;",
    "inherit": "ALTER TABLE events INHERIT base;",
    "created with all": """CREATE UNLOGGED TABLE child (id bigint NOT NULL,
                                                      created_at timestamptz NOT NULL DEFAULT now(), note text)
                               INHERITS (base) WITH (fillfactor = 60);
                           ALTER TABLE child ALTER COLUMN note SET STATISTICS 300;
                           ALTER TABLE child REPLICA IDENTITY FULL;""",
}


@pytest.mark.pg
@pytest.mark.parametrize("case", CASES)
def test_round_trip_on_postgresql(pg_cluster, case):
    """diff(a, b) applied to a yields b; its rollback brings a back; and the other way round."""
    round_trip_both_ways(pg_cluster, BASE, BASE + CASES[case])


@pytest.mark.pg
def test_a_child_created_under_a_retyped_parent_inherits_once_the_columns_are_final(pg_cluster):
    """The parent's column changes type in the same diff (concourse's build_events): the child is
    created with the final columns and inherits after; backwards, it leaves before the parent reverts."""
    changes = round_trip_both_ways(pg_cluster, BASE, BASE + """
        ALTER TABLE base ALTER COLUMN id TYPE numeric;
        ALTER TABLE base ADD CONSTRAINT base_id_check CHECK (id > 0);
        CREATE TABLE child (extra text) INHERITS (base);""")
    assert "inherit public.child" in [c.describe() for c in changes]
