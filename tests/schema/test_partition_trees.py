"""Partitions and children: partitioned indexes keep their tree (`Index.parent`, ALTER INDEX … ATTACH
PARTITION), inherited CHECKs come with the parent (`Constraint.inherited`), a parent's column change
is not repeated on its partitions; and an enum value added is taken back by recreating the type
(the views reading it dropped and created again around it).
Pure model tests, then round trips on a real PostgreSQL."""

from __future__ import annotations

import pytest

from migguard.schema.diff import diff, reverse_script
from migguard.schema.model import Column, Constraint, Index, SchemaModel, Table
from tests.schema.roundtrip_kit import round_trip_both_ways

KEY = Column(name="k", position=1, type="integer")


def _partitioned(parent_indexes: dict, child_indexes: dict) -> SchemaModel:
    parent = Table(schema_name="public", name="events", kind="partitioned table", columns={"k": KEY},
                   partition_key="RANGE (k)", indexes=parent_indexes)
    child = Table(schema_name="public", name="events_1", columns={"k": KEY}, partition_of="public.events",
                  partition_bound="FOR VALUES FROM (0) TO (10)", indexes=child_indexes)
    return SchemaModel(tables={parent.qualified_name: parent, child.qualified_name: child})


PARENT_INDEX = Index(name="events_k_idx", definition="CREATE INDEX events_k_idx ON ONLY public.events USING btree (k)",
                     columns=("k",))
CHILD_INDEX = Index(name="events_1_k_idx", definition="CREATE INDEX events_1_k_idx ON public.events_1 USING btree (k)",
                    columns=("k",), parent="public.events_k_idx")


def test_index_parent_and_inherited_check_survive_the_model_json_round_trip():
    check = Constraint(name="k_positive", kind="check", definition="CHECK ((k > 0))", inherited=True)
    model = _partitioned({PARENT_INDEX.name: PARENT_INDEX}, {CHILD_INDEX.name: CHILD_INDEX})
    table = model.tables["public.events_1"].model_copy(update={"constraints": {check.name: check}})
    model = model.model_copy(update={"tables": {**model.tables, table.qualified_name: table}})
    back = SchemaModel.from_json(model.to_json())
    assert back == model and back.tables["public.events_1"].indexes[CHILD_INDEX.name].parent == "public.events_k_idx"
    assert back.tables["public.events_1"].constraints["k_positive"].inherited is True


def test_a_new_partitioned_index_attaches_its_partitions_index_after_both_exist():
    changes = diff(_partitioned({}, {}), _partitioned({PARENT_INDEX.name: PARENT_INDEX}, {CHILD_INDEX.name: CHILD_INDEX}))
    assert [(c.kind, c.object) for c in changes] == [
        ("create index", "public.events_k_idx"), ("create index", "public.events_1_k_idx"),
        ("attach index", "public.events_1_k_idx")]
    assert changes[2].forward == "ALTER INDEX public.events_k_idx ATTACH PARTITION public.events_1_k_idx;"
    rollback, irreversible = reverse_script(changes)
    assert irreversible == [] and rollback == "DROP INDEX public.events_k_idx;\n"  # the attached index goes with it


def test_dropping_a_partitioned_index_leaves_its_partition_index_to_it_and_restores_both():
    changes = diff(_partitioned({PARENT_INDEX.name: PARENT_INDEX}, {CHILD_INDEX.name: CHILD_INDEX}), _partitioned({}, {}))
    assert [(c.kind, c.forward) for c in changes] == [("drop index", "DROP INDEX public.events_k_idx;")]
    assert changes[0].reverse == (f"{PARENT_INDEX.definition};\n{CHILD_INDEX.definition};\n"
                                  "ALTER INDEX public.events_k_idx ATTACH PARTITION public.events_1_k_idx;")


BASE = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE events (k integer, note text, feeling mood DEFAULT 'sad') PARTITION BY RANGE (k);
CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (10);
CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (10) TO (20);
CREATE VIEW feelings AS SELECT k, feeling, 'happy'::mood AS hoped FROM events;
"""


@pytest.mark.pg
@pytest.mark.parametrize("change", [
    "CREATE INDEX events_k_idx ON events (k, note);",
    "ALTER TABLE events ADD CONSTRAINT events_k_check CHECK (k >= 0); ALTER TABLE events ALTER COLUMN k SET NOT NULL;",
    "ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';",
], ids=["partitioned index", "check and not null from the parent", "enum value"])
def test_partition_changes_round_trip_on_postgresql(pg_cluster, change):
    round_trip_both_ways(pg_cluster, BASE, BASE + change)


def _keyed(parent_key: bool, child_key: bool, child_attached: bool = True) -> SchemaModel:
    """events and events_1 with their primary keys: the partition's attached to the parent's or not."""
    model = _partitioned({}, {})
    parent, child = model.tables["public.events"], model.tables["public.events_1"]
    if parent_key:
        parent = parent.model_copy(update={
            "constraints": {"events_pkey": Constraint(name="events_pkey", kind="primary", definition="PRIMARY KEY (k)",
                                                      columns=("k",))},
            "indexes": {"events_pkey": Index(name="events_pkey", unique=True, columns=("k",), constraint="events_pkey",
                                             definition="CREATE UNIQUE INDEX events_pkey ON ONLY public.events USING btree (k)")}})
    if child_key:
        child = child.model_copy(update={
            "constraints": {"events_1_pkey": Constraint(name="events_1_pkey", kind="primary",
                                                        definition="PRIMARY KEY (k)", columns=("k",))},
            "indexes": {"events_1_pkey": Index(name="events_1_pkey", unique=True, columns=("k",), constraint="events_1_pkey",
                                               definition="CREATE UNIQUE INDEX events_1_pkey ON public.events_1 USING btree (k)",
                                               parent="public.events_pkey" if child_attached else None)}})
    return SchemaModel(tables={t.qualified_name: t for t in (parent, child)})


def test_a_partitioned_key_is_made_as_pg_dump_makes_it_and_its_partitions_go_and_come_back_with_it():
    changes = diff(_keyed(False, False), _keyed(True, True))
    assert [c.forward for c in changes] == [
        "ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (k);",
        "ALTER TABLE ONLY public.events_1 ADD CONSTRAINT events_1_pkey PRIMARY KEY (k);",
        "ALTER INDEX public.events_pkey ATTACH PARTITION public.events_1_pkey;"]
    assert reverse_script(changes) == ("ALTER TABLE public.events DROP CONSTRAINT events_pkey;\n", [])
    (drop,) = diff(_keyed(True, True), _keyed(False, False))  # the partition's key goes with the parent's
    assert drop.forward == "ALTER TABLE public.events DROP CONSTRAINT events_pkey;"
    assert drop.reverse.splitlines() == [c.forward for c in changes]


def test_attaching_a_partitions_key_to_a_kept_parent_is_undone_by_rebuilding_the_parent():
    # PostgreSQL cannot detach an attached index: the rollback drops the parent's key (the
    # partition's goes with it) and adds it again alone, as it was
    changes = diff(_keyed(True, True, child_attached=False), _keyed(True, True))
    assert [(c.kind, c.forward) for c in changes] == [
        ("attach index", "ALTER INDEX public.events_pkey ATTACH PARTITION public.events_1_pkey;")]
    assert changes[0].reverse.splitlines() == [
        "ALTER TABLE public.events DROP CONSTRAINT events_pkey;",
        "ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (k);",
        "ALTER TABLE ONLY public.events_1 ADD CONSTRAINT events_1_pkey PRIMARY KEY (k);"]
