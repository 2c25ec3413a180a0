"""Extended statistics (CREATE STATISTICS): each change is reported, applied and reversed exactly
(pure model tests, then on a real PostgreSQL)."""

from __future__ import annotations

import pytest

from migguard.schema.diff import diff
from migguard.schema.model import SchemaModel, Statistics
from tests.schema.roundtrip_kit import round_trip_both_ways

S = Statistics(schema_name="public", name="orders_city_zip",
               definition="CREATE STATISTICS public.orders_city_zip (dependencies) ON city, zip FROM public.orders")


def _model(*objects: Statistics) -> SchemaModel:
    return SchemaModel(statistics={s.qualified_name: s for s in objects})


def test_a_target_change_is_altered_in_place_and_a_definition_change_recreates():
    [change] = diff(_model(S), _model(S.model_copy(update={"target": 500})))
    assert change.describe() == "alter statistics target public.orders_city_zip: target none → 500"
    assert (change.forward, change.reverse) == (
        "ALTER STATISTICS public.orders_city_zip SET STATISTICS 500;",
        "ALTER STATISTICS public.orders_city_zip SET STATISTICS -1;")
    wider = S.model_copy(update={"definition": S.definition.replace("(dependencies)", "(ndistinct, dependencies)")})
    assert [c.kind for c in diff(_model(S), _model(wider))] == ["drop statistics", "create statistics"]


BASE = """
CREATE TABLE orders (id bigint PRIMARY KEY, city text, zip text, country text);
CREATE STATISTICS orders_city_zip (dependencies) ON city, zip FROM orders;
"""

CASES = {
    "created with a new column": """ALTER TABLE orders ADD COLUMN region text;
                                    CREATE STATISTICS orders_region (ndistinct, mcv) ON region, country FROM orders;
                                    COMMENT ON STATISTICS orders_region IS 'region by country';""",
    "dropped": "DROP STATISTICS orders_city_zip;",
    "redefined": """DROP STATISTICS orders_city_zip;
                    CREATE STATISTICS orders_city_zip (ndistinct, dependencies) ON city, zip, country FROM orders;""",
    "target": "ALTER STATISTICS orders_city_zip SET STATISTICS 800;",
    "table dropped": "DROP TABLE orders;",
}


@pytest.mark.pg
@pytest.mark.parametrize("case", CASES)
def test_round_trip_on_postgresql(pg_cluster, case):
    round_trip_both_ways(pg_cluster, BASE, BASE + CASES[case])
