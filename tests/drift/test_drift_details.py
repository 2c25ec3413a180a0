"""Drift names the fields that changed, including the properties the model did not hold before
(REPLICA IDENTITY, reloptions), through the real CLI and a real PostgreSQL."""

import psycopg
import pytest

from tests.drift.test_status_diff import migguard, project  # noqa: F401 - the project fixture
from tests.plan.test_plan import _production

pytestmark = [pytest.mark.pg, pytest.mark.e2e]


def test_status_names_each_drifted_field(project, pg, pg_cluster):  # noqa: F811 - the fixture
    _production(pg, project, applied=6, rows=False)
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("ALTER TABLE services ALTER COLUMN duration_min TYPE bigint")
        conn.execute("ALTER TABLE services REPLICA IDENTITY FULL")
        conn.execute("ALTER TABLE services SET (fillfactor = 70)")
    result = migguard(project, "status", env={"PG_PROD_URL": pg, "PG_SHADOW_URL": pg_cluster.url()})
    assert result.returncode == 1, result.stderr
    drift = {line for line in result.stdout.splitlines() if line.startswith("drift:")}
    assert {
        "drift:    alter column type public.services.duration_min: type integer → bigint",
        "drift:    alter replica identity public.services: replica_identity default → full",
        "drift:    alter table options public.services: options () → (fillfactor=70)",
    } <= drift, drift
