"""Composite types (CREATE TYPE … AS (…)): each change is reported, applied and reversed exactly
(pure model tests, then on a real PostgreSQL)."""

from __future__ import annotations

import pytest

from migguard.schema.diff import diff, forward_script
from migguard.schema.model import Column, CompositeType, SchemaModel, Table
from tests.schema.roundtrip_kit import round_trip_both_ways

MONEY = CompositeType(schema_name="public", name="money",
                      attributes=(("amount", "numeric(12,2)"), ("currency", "text")), grants={"public": ("USAGE",)})


def _model(*composites: CompositeType, **rest) -> SchemaModel:
    return SchemaModel(composites={c.qualified_name: c for c in composites}, **rest)


def test_attribute_changes_are_named_and_reversed():
    changed = MONEY.model_copy(update={"attributes": (("amount", "numeric(14,2)"), ("rate", "double precision"))})
    changes = diff(_model(MONEY), _model(changed))
    assert [(c.kind, c.object, c.forward, c.reverse) for c in changes] == [
        ("drop attribute", "public.money.currency", "ALTER TYPE public.money DROP ATTRIBUTE currency;",
         "ALTER TYPE public.money ADD ATTRIBUTE currency text;"),
        ("alter attribute type", "public.money.amount",
         "ALTER TYPE public.money ALTER ATTRIBUTE amount SET DATA TYPE numeric(14,2);",
         "ALTER TYPE public.money ALTER ATTRIBUTE amount SET DATA TYPE numeric(12,2);"),
        ("add attribute", "public.money.rate", "ALTER TYPE public.money ADD ATTRIBUTE rate double precision;",
         "ALTER TYPE public.money DROP ATTRIBUTE rate;"),
    ]
    assert changes[0].destructive and changes[0].lossy


def test_a_type_is_created_before_the_table_that_uses_it():
    table = Table(schema_name="public", name="prices", columns={"price": Column(name="price", position=1,
                                                                                  type="public.money")})
    script = forward_script(diff(SchemaModel(), _model(MONEY, tables={"public.prices": table})))
    assert script.index("CREATE TYPE public.money AS (amount numeric(12,2), currency text);") < script.index(
        "CREATE TABLE public.prices")


BASE = """
CREATE TYPE money_t AS (amount numeric(12, 2), currency text);
CREATE TYPE mood AS ENUM ('sad', 'happy');
"""

CASES = {
    "created, used by a table": """CREATE TYPE reading AS (at timestamptz, value double precision, mood mood);
                                   COMMENT ON TYPE reading IS 'one sensor reading';
                                   CREATE TABLE readings (id bigint, r reading);""",
    "attribute added": "ALTER TYPE money_t ADD ATTRIBUTE rate double precision;",
    "attribute dropped": "ALTER TYPE money_t DROP ATTRIBUTE currency;",
    "attribute retyped and collated": """ALTER TYPE money_t ALTER ATTRIBUTE amount SET DATA TYPE numeric(14, 2);
                                         ALTER TYPE money_t ALTER ATTRIBUTE currency SET DATA TYPE text COLLATE "C";""",
    "comment": "COMMENT ON TYPE money_t IS 'an amount in a currency';",
    "usage revoked": "REVOKE USAGE ON TYPE money_t FROM PUBLIC;",
}


@pytest.mark.pg
@pytest.mark.parametrize("case", CASES)
def test_round_trip_on_postgresql(pg_cluster, case):
    round_trip_both_ways(pg_cluster, BASE, BASE + CASES[case])
