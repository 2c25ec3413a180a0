"""INSTEAD OF triggers on views (`View.triggers`): read, compared, recreated with their view.
A pure model test, then a round trip on a real PostgreSQL."""

from __future__ import annotations

import pytest

from migguard.schema.diff import diff
from migguard.schema.model import SchemaModel, Trigger, View
from tests.schema.roundtrip_kit import round_trip_both_ways

TRIGGER = Trigger(name="notes_insert", definition="CREATE TRIGGER notes_insert INSTEAD OF INSERT ON public.notes_view "
                  "FOR EACH ROW EXECUTE FUNCTION public.insert_note()")


def _model(**view: object) -> SchemaModel:
    v = View(schema_name="public", name="notes_view", definition=" SELECT 1 AS one;").model_copy(update=view)
    return SchemaModel(views={v.qualified_name: v})


def test_a_view_trigger_survives_the_model_json_round_trip_and_is_created_with_its_view():
    model = _model(triggers={TRIGGER.name: TRIGGER})
    assert SchemaModel.from_json(model.to_json()) == model
    changes = diff(_model(), model)
    assert [c.kind for c in changes] == ["drop view", "create view"]
    assert changes[1].forward.endswith(f"\n{TRIGGER.definition};")
    assert TRIGGER.definition not in changes[1].reverse


BASE = """
CREATE TABLE notes (body text);
CREATE VIEW notes_view AS SELECT body FROM notes;
CREATE FUNCTION insert_note() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO notes (body) VALUES (NEW.body); RETURN NEW; END $$;
"""


@pytest.mark.pg
def test_a_view_trigger_round_trips_on_postgresql(pg_cluster):
    changes = round_trip_both_ways(pg_cluster, BASE, BASE + "CREATE TRIGGER notes_insert INSTEAD OF INSERT ON notes_view "
                                   "FOR EACH ROW EXECUTE FUNCTION insert_note();")
    assert [c.kind for c in changes] == ["drop view", "create view"]
    assert "CREATE TRIGGER notes_insert INSTEAD OF INSERT ON public.notes_view" in changes[1].forward
