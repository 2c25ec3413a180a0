"""Collations (CREATE COLLATION): each change is reported, applied and reversed exactly (pure model
tests, then on a real PostgreSQL)."""

from __future__ import annotations

import pytest

from migguard.schema.diff import diff, forward_script
from migguard.schema.model import Collation, Column, SchemaModel, Table
from tests.schema.roundtrip_kit import round_trip_both_ways

POSIX = Collation(schema_name="public", name="bytewise", provider="libc", lc_collate="C", lc_ctype="C")


def _model(*collations: Collation, **rest) -> SchemaModel:
    return SchemaModel(collations={c.qualified_name: c for c in collations}, **rest)


def test_a_collation_is_created_before_the_column_that_uses_it():
    table = Table(schema_name="public", name="names", columns={
        "name": Column(name="name", position=1, type="text", collation="bytewise")})
    script = forward_script(diff(SchemaModel(), _model(POSIX, tables={"public.names": table})))
    create = ("CREATE COLLATION public.bytewise (provider = libc, lc_collate = 'C', lc_ctype = 'C', "
              "deterministic = true);")
    assert script.index(create) < script.index("CREATE TABLE public.names")


def test_a_changed_collation_is_recreated_and_a_comment_altered():
    icu = Collation(schema_name="public", name="bytewise", provider="icu", locale="und-u-ks-level2",
                    deterministic=False)
    assert [(c.kind, c.forward) for c in diff(_model(POSIX), _model(icu))] == [
        ("drop collation", "DROP COLLATION public.bytewise;"),
        ("create collation", ("CREATE COLLATION public.bytewise (provider = icu, locale = 'und-u-ks-level2', "
                              "deterministic = false);")),
    ]
    [comment] = diff(_model(POSIX), _model(POSIX.model_copy(update={"comment": "byte order"})))
    assert comment.describe() == "comment on collation public.bytewise: comment none → byte order"
    assert comment.reverse == "COMMENT ON COLLATION public.bytewise IS NULL;"


BASE = "CREATE COLLATION bytewise (provider = libc, locale = 'C');\n"

CASES = {
    "created, used by a column": """
        CREATE COLLATION posix_names (provider = libc, lc_collate = 'POSIX', lc_ctype = 'POSIX');
        CREATE TABLE people (name text COLLATE posix_names);""",
    "dropped": "DROP COLLATION bytewise;",
    "comment": "COMMENT ON COLLATION bytewise IS 'byte order';",
}


@pytest.mark.pg
@pytest.mark.parametrize("case", CASES)
def test_round_trip_on_postgresql(pg_cluster, case):
    round_trip_both_ways(pg_cluster, BASE, BASE + CASES[case])
