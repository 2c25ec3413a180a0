"""Resuming a part-way migration through the real CLI on real PostgreSQL: after a CONCURRENTLY
migration stopped part way, `status` lists it, `plan` sees no drift and proves only what the resume
runs (while the migration's own rollback stays complete), `apply` resumes without --accept-drift,
and `rollback` then undoes the whole migration. Production's catalog, history, progress rows and
audit log are asserted after each step.
"""

import json

import psycopg
import pytest

from tests.apply.livekit import (
    SENTINEL,
    audit_entries,
    audit_path,
    make_project,
    migguard,
    newest_plan,
    with_password,
    write,
)
from tests.apply.test_live_runner import Holder

pytestmark = [pytest.mark.pg, pytest.mark.e2e, pytest.mark.all_majors]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "300ms"
lock_retries = 0
pg_version = 15
"""
TABLES = """SET lock_timeout = '300ms';
CREATE TABLE a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, x bigint);
CREATE TABLE b (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, y bigint);
"""
# Plain CREATE INDEX CONCURRENTLY: running statement 1 again would fail with "already exists".
INDEXES = """CREATE INDEX CONCURRENTLY a_x_idx ON a (x);
CREATE INDEX CONCURRENTLY b_y_idx ON b (y);
"""


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url(), {"0001_tables.sql": TABLES})


def state(url: str) -> dict:
    """Production: history, progress rows, and every index on a or b with its validity."""
    with psycopg.connect(url) as conn:
        def rows(query: str) -> list:
            return conn.execute(query).fetchall()
        progress = (rows("SELECT version, statement_number FROM migguard.schema_migrations_progress ORDER BY 1, 2")
                    if conn.execute("SELECT to_regclass('migguard.schema_migrations_progress')").fetchone()[0] else [])
        return {
            "history": [r[0] for r in rows("SELECT version FROM migguard.schema_migrations ORDER BY version")],
            "progress": progress,
            "indexes": sorted(rows("SELECT c.relname, i.indisvalid FROM pg_index i "
                                   "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
                                   "WHERE t.relname IN ('a', 'b') AND NOT i.indisprimary")),
        }


def test_a_part_way_migration_is_planned_as_resumed_and_resumes_without_accepting_drift(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_indexes.sql", INDEXES)

    # Another session holds b: statement 2 gives up after its one lock_timeout; statement 1 stays applied.
    holder = Holder(pg, seconds=120)
    try:
        failed = migguard(project, "apply", "--confirm-live")
    finally:
        holder.stop()
    assert failed.returncode == 3, failed.stderr
    assert "statement(s) 1 of it ran before the failure and STAY APPLIED" in failed.stderr
    assert state(pg) == {"history": ["0001"], "progress": [("0002", 1)], "indexes": [("a_x_idx", True)]}

    # status: the part-way migration, how far it got and why it stopped; what ran of it is not drift.
    status = migguard(project, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert ("part way: 0002 ran part way: 1 of 2 statement(s) done (1); apply resumes at the next; last failure "
            in status.stdout), status.stdout
    assert "failed at statement 2 (line 2: CREATE INDEX CONCURRENTLY b_y_idx ON b (y))" in status.stdout
    assert "drift:    none" in status.stdout
    document = json.loads(migguard(project, "status", "--format", "json").stdout)
    assert [(p["version"], p["done"], p["total"]) for p in document["part_way"]] == [("0002", [1], 2)]
    assert document["drift"] == [] and document["part_way_edited"] == []

    # A statement that ran, edited since: plan says so (error, naming it) instead of planning it silently.
    write(project, "0002_indexes.sql", INDEXES.replace("ON a (x)", "ON a (x, id)"))
    edited = migguard(project, "plan", "--format", "json")
    assert edited.returncode == 1, edited.stderr
    named = [f for f in json.loads(edited.stdout)["findings"] if f["rule"] == "partial-migration-edited"]
    assert len(named) == 1 and named[0]["severity"] == "error", edited.stdout
    assert ("statement 1 (line 1: CREATE INDEX CONCURRENTLY a_x_idx ON a (x)) that ran differs from the file's "
            "statement 1") in named[0]["message"]
    write(project, "0002_indexes.sql", INDEXES)

    # plan: no drift; the clone runs only statement 2, so only it is a change of this apply and of
    # rollback.sql, while the migration's own rollback (what `rollback` undoes later) drops both.
    planned = migguard(project, "plan", "--format", "json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    summary = json.loads(planned.stdout)["summary"]["plan"]
    assert summary["drift"] == [] and summary["part_way"] == {"0002": [1]} and summary["rollback_verified"]
    assert [c.split(" ")[-1] for c in summary["changes"]] == ["public.b_y_idx"], summary["changes"]
    directory = newest_plan(project)
    plan_json = json.loads((directory / "plan.json").read_text())
    assert [c["object"] for c in plan_json["migrations"][0]["changes"]] == ["public.a_x_idx", "public.b_y_idx"]
    assert "a_x_idx" not in (directory / "rollback.sql").read_text()
    assert (directory / "forward.sql").read_text() == (
        "-- migration 0002 ran part way in production: statement(s) 1 (line 1) ran before and do not run again\n"
        "CREATE INDEX CONCURRENTLY b_y_idx ON b (y);\n")
    own_rollback = (directory / "rollback" / "0002.sql").read_text()
    assert own_rollback.index("b_y_idx") < own_rollback.index("a_x_idx")
    assert state(pg)["progress"] == [("0002", 1)]  # plan only read production

    # apply, without --accept-drift: resumes at statement 2; each index exists once, the history lists it.
    resumed = migguard(project, "apply", "--confirm-live")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at statement 2" in resumed.stderr and "schema-drift" not in resumed.stderr
    assert state(pg) == {"history": ["0001", "0002"], "progress": [],
                         "indexes": [("a_x_idx", True), ("b_y_idx", True)]}
    audit = audit_entries(project)
    assert audit[-1]["result"] == "applied" and audit[-1]["migrations"] == ["0002"]
    assert not any(a["id"] == "schema-drift" for a in audit[-1]["details"]["accepted"])

    # The migration's rollback is complete: both indexes go, statement 1's too.
    rolled = migguard(project, "rollback", "--confirm-live")
    assert rolled.returncode == 0, rolled.stderr
    assert state(pg) == {"history": ["0001"], "progress": [], "indexes": []}

    outputs = "".join(r.stdout + r.stderr for r in (failed, status, edited, planned, resumed, rolled))
    assert SENTINEL not in outputs + audit_path(project).read_text()


class Writer:
    """Another session with an uncommitted INSERT into b: CREATE INDEX CONCURRENTLY on b gets its own
    lock, creates the index (INVALID), then waits for this writer and gives up at lock_timeout."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url)
        self.conn.execute("INSERT INTO b (y) VALUES (1)")

    def stop(self) -> None:
        self.conn.rollback()
        self.conn.close()


def test_the_invalid_index_a_failed_attempt_left_is_rebuilt_not_drift(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_indexes.sql", INDEXES)
    writer = Writer(pg)
    try:
        failed = migguard(project, "apply", "--confirm-live")
    finally:
        writer.stop()
    assert failed.returncode == 3, failed.stderr
    assert "left the INVALID index b_y_idx behind" in failed.stderr, failed.stderr
    assert state(pg) == {"history": ["0001"], "progress": [("0002", 1)],
                         "indexes": [("a_x_idx", True), ("b_y_idx", False)]}

    planned = migguard(project, "plan", "--format", "json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert json.loads(planned.stdout)["summary"]["plan"]["drift"] == []
    assert "INVALID index public.b_y_idx: left by a failed CREATE INDEX CONCURRENTLY" in planned.stderr
    status = migguard(project, "status")
    assert status.returncode == 0 and "drift:    none" in status.stdout, status.stdout + status.stderr

    resumed = migguard(project, "apply", "--confirm-live")
    assert resumed.returncode == 0, resumed.stderr
    assert "index b_y_idx is INVALID (an earlier attempt failed): dropping it first" in resumed.stderr
    assert state(pg) == {"history": ["0001", "0002"], "progress": [],
                         "indexes": [("a_x_idx", True), ("b_y_idx", True)]}
