"""A column added to or dropped from a partitioned table: the diff changes the parent only (its
partitions follow; PostgreSQL refuses ADD/DROP COLUMN on a partition), so both the forward
script and the generated rollback run on a real PostgreSQL and restore each schema exactly."""

import pytest

from tests.schema.test_round_trip import _round_trip

pytestmark = pytest.mark.pg

EVENTS = """
CREATE TABLE events (tenant_id uuid NOT NULL, at timestamptz NOT NULL, kind text, legacy int) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
"""

CHANGES = """
ALTER TABLE events ADD COLUMN source text;
ALTER TABLE events DROP COLUMN legacy;
"""


def test_columns_of_a_partitioned_table_round_trip(pg_cluster):
    _round_trip(pg_cluster, EVENTS, EVENTS + CHANGES)
