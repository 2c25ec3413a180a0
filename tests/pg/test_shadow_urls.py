"""The shadow's connection string may be a URL or key=value pairs (libpq accepts both, and so does
PG_SHADOW_URL): a scratch database is reached through either."""

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from migguard.pg.shadow import with_database


def test_a_url_points_at_another_database_and_keeps_everything_else():
    url = "postgresql://shadow:pw@db.example:5433/postgres?sslmode=require"
    assert with_database(url, "migguard_shadow_1") == \
        "postgresql://shadow:pw@db.example:5433/migguard_shadow_1?sslmode=require"


def test_key_value_pairs_point_at_another_database_and_keep_everything_else():
    moved = conninfo_to_dict(with_database("host=db.example port=5433 user=shadow dbname=postgres sslmode=require",
                                           "migguard_shadow_1"))
    assert moved == {"host": "db.example", "port": "5433", "user": "shadow", "dbname": "migguard_shadow_1",
                     "sslmode": "require"}


@pytest.mark.pg
def test_a_key_value_shadow_reaches_the_database_named(pg):
    pairs = " ".join(f"{key}={value}" for key, value in conninfo_to_dict(pg).items() if key != "dbname")
    with psycopg.connect(with_database(pairs, "postgres")) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "postgres"
