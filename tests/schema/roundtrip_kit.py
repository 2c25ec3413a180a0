"""Round trip of a schema change on a real PostgreSQL, both ways: diff(a, b) applied to a yields b
exactly, and its rollback brings a back exactly; then the same from b to a."""

from __future__ import annotations

import psycopg

from migguard.pg.introspect import introspect
from migguard.schema.diff import Change, diff, forward_script, reverse_script


def database(cluster, name: str, sql: str) -> str:
    """URL of a fresh database `name` on `cluster` holding `sql`."""
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(cluster.url(name), autocommit=True) as conn:
        conn.execute(sql)
    return cluster.url(name)


def round_trip_both_ways(cluster, before_sql: str, after_sql: str) -> list[Change]:
    """Checks both directions; returns the forward changes (a → b)."""
    a, b = database(cluster, "rt_kit_a", before_sql), database(cluster, "rt_kit_b", after_sql)
    model_a, model_b = introspect(a), introspect(b)
    forward_changes = diff(model_a, model_b)
    for start, goal, url in ((model_a, model_b, a), (model_b, model_a, b)):
        changes = diff(start, goal)
        assert changes, "the change is invisible to the diff"
        with psycopg.connect(url) as conn:
            conn.execute(forward_script(changes))
        left = diff(introspect(url), goal)
        assert left == [], [c.describe() for c in left]
        rollback, irreversible = reverse_script(changes)
        assert irreversible == []
        with psycopg.connect(url) as conn:
            conn.execute(rollback)
        left = diff(introspect(url), start)
        assert left == [], [c.describe() for c in left]
        assert introspect(url).fingerprint() == start.fingerprint()
    return forward_changes
