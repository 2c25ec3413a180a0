"""Drift and apply's verification compare two schemas read on the same server: production's schema
is restored on the shadow and read there, so what a major deparses differently (a view's
definition: PostgreSQL 16 drops the table qualification 15 writes) is never drift. Production on
PostgreSQL 15, the shadow forced to the bundled 16, through the CLI."""

from __future__ import annotations

import pytest

from tests.apply.livekit import applied_versions, columns, make_project, migguard, scalar, write

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = '[tool.migguard]\nmigrations = "db/migrations"\n'
ITEMS = """SET lock_timeout = '2s';
CREATE TABLE items (id bigint PRIMARY KEY, name text);
CREATE VIEW item_names AS SELECT id, upper(name) AS name FROM items WHERE id > 0;
"""


def test_a_view_on_another_major_is_not_drift(tmp_path, pg15, bundled_cluster):
    project = make_project(tmp_path, CONFIG, pg15, bundled_cluster.url(), {"0001_items.sql": ITEMS})
    # the two majors really deparse the view differently: production's own reading would differ
    shadow_major = scalar(bundled_cluster.url(), "SHOW server_version_num")
    assert int(shadow_major) // 10000 == 16 and int(scalar(pg15, "SHOW server_version_num")) // 10000 == 15

    first = migguard(project, "apply", "--confirm-live")  # verification after applying: like with like
    assert first.returncode == 0, first.stdout + first.stderr
    assert "items.id" in scalar(pg15, "SELECT pg_get_viewdef('item_names'::regclass)")

    write(project, "0002_item_price.sql", "SET lock_timeout = '2s';\nALTER TABLE items ADD COLUMN price numeric;\n")
    plan = migguard(project, "plan", "--format", "json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert '"drift": []' in plan.stdout and "schema-drift" not in plan.stdout

    second = migguard(project, "apply", "--confirm-live")
    assert second.returncode == 0, second.stdout + second.stderr
    assert columns(pg15, "items") == {"id", "name", "price"} and applied_versions(pg15) == ["0001", "0002"]

    status = migguard(project, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "drift:    none" in status.stdout
