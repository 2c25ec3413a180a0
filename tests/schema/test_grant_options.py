"""WITH GRANT OPTION on tables (`Table.grant_options`): read, compared, given and taken back.
Pure model tests, then a round trip on a real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from migguard.schema.diff import diff
from migguard.schema.model import SchemaModel, Table
from tests.schema.roundtrip_kit import round_trip_both_ways


def _model(**table: object) -> SchemaModel:
    t = Table(schema_name="public", name="books", grants={"clerk": ("SELECT",)}).model_copy(update=table)
    return SchemaModel(tables={t.qualified_name: t})


def test_grant_options_survive_the_model_json_round_trip():
    model = _model(grant_options={"clerk": ("SELECT",)})
    assert SchemaModel.from_json(model.to_json()) == model


def test_a_grant_option_is_given_and_taken_back():
    [change] = diff(_model(), _model(grant_options={"clerk": ("SELECT",)}))
    assert change.describe() == "grant option public.books to clerk: grant_options.clerk none → (SELECT)"
    assert change.forward == "GRANT SELECT ON TABLE public.books TO clerk WITH GRANT OPTION;"
    assert change.reverse == "REVOKE GRANT OPTION FOR SELECT ON TABLE public.books FROM clerk;"


@pytest.fixture
def clerk(pg_cluster):
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'migguard_test_clerk'").fetchone() is None:
            admin.execute("CREATE ROLE migguard_test_clerk")
    return "migguard_test_clerk"


@pytest.mark.pg
def test_a_grant_option_round_trips_on_postgresql(pg_cluster, clerk):
    base = f"CREATE TABLE books (id integer); GRANT SELECT, INSERT ON books TO {clerk};"
    changes = round_trip_both_ways(pg_cluster, base, base + f"GRANT SELECT ON books TO {clerk} WITH GRANT OPTION;")
    assert [c.kind for c in changes] == ["grant option"]
