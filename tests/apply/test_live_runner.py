"""The runner on the live path: statement-by-statement migrations resume and never repeat, failures say
exactly what stayed applied, and the timeout ceiling and the checked bytes hold. Real PostgreSQL, through
the real CLI where the operator would be; production's rows, catalog, history and progress asserted after.
"""

import os
import subprocess
import sys
import threading

import psycopg
import pytest

from migguard.apply.runner import MigrationError, Runner
from migguard.core.errors import GateRefused
from migguard.core.sources import checksum, discover
from tests.apply.livekit import (
    SENTINEL,
    audit_entries,
    audit_path,
    make_project,
    migguard,
    saved_plan,
    with_password,
    write,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e, pytest.mark.all_majors]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "300ms"
lock_retries = {retries}
pg_version = 15
"""
TABLES = """SET lock_timeout = '300ms';
CREATE TABLE a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, x bigint);
CREATE TABLE b (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, y bigint);
CREATE TABLE plans (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
"""
# The shape: a concurrent index, a seed row, a concurrent index on a table another session holds.
INDEXES = """CREATE INDEX CONCURRENTLY IF NOT EXISTS a_x_idx ON a (x);
-- migguard:ignore ban-mixing-concurrently -- the free plan must exist once the index does; the runner resumes
INSERT INTO plans (name) VALUES ('free');
CREATE INDEX CONCURRENTLY IF NOT EXISTS b_y_idx ON b (y);
"""


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG.format(retries=6), with_password(pg), pg_cluster.url(),
                        {"0001_tables.sql": TABLES})


def state(url: str) -> dict:
    """What production holds: history, progress rows, seed rows, and the indexes with their validity."""
    with psycopg.connect(url) as conn:
        def rows(query: str) -> list:
            return conn.execute(query).fetchall()
        progress = (rows("SELECT version, statement_number FROM migguard.schema_migrations_progress ORDER BY 1, 2")
                    if conn.execute("SELECT to_regclass('migguard.schema_migrations_progress')").fetchone()[0] else [])
        return {
            "history": [r[0] for r in rows("SELECT version FROM migguard.schema_migrations ORDER BY version")],
            "progress": progress,
            "seed": rows("SELECT count(*) FROM plans WHERE name = 'free'")[0][0],
            "indexes": dict(rows("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                 "WHERE c.relname IN ('a_x_idx', 'b_y_idx')")),
        }


class Holder:
    """Another session holding `LOCK TABLE b IN SHARE MODE` (conflicts with CREATE INDEX CONCURRENTLY's
    SHARE UPDATE EXCLUSIVE, not with the reads of the gates and pg_dump) until released or timed out."""

    def __init__(self, url: str, seconds: float) -> None:
        self.release = threading.Event()
        ready = threading.Event()

        def hold() -> None:
            with psycopg.connect(url) as conn:
                conn.execute("LOCK TABLE b IN SHARE MODE")
                ready.set()
                self.release.wait(seconds)
                conn.rollback()

        self.thread = threading.Thread(target=hold)
        self.thread.start()
        assert ready.wait(10)

    def stop(self) -> None:
        self.release.set()
        self.thread.join()  # the lock is gone once this returns


def apply_released_at_first_retry(project, holder: Holder, *args: str) -> tuple[int, str]:
    """Run apply while `holder` holds the lock; release it once apply reports its first lock timeout."""
    directory, env = project.root, project.env
    process = subprocess.Popen([sys.executable, "-m", "migguard", "apply", *args], cwd=directory, text=True,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = []
    try:
        for line in process.stderr:
            lines.append(line)
            if "lock not available" in line:
                holder.stop()
    finally:
        holder.stop()
        process.wait(timeout=300)
    return process.returncode, "".join(lines)


def test_lock_timeout_retries_continue_at_the_failing_statement(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_indexes.sql", INDEXES)
    plan = saved_plan(project)
    code, stderr = apply_released_at_first_retry(project, Holder(pg, seconds=120), "--confirm-live", "--plan", str(plan))
    assert code == 0, stderr
    assert "lock not available at statement 3 (line 4: CREATE INDEX CONCURRENTLY IF NOT EXISTS b_y_idx" in stderr
    assert "retry 1/6" in stderr and "resuming at statement 3" in stderr, stderr
    assert state(pg) == {"history": ["0001", "0002"], "progress": [], "seed": 1,
                         "indexes": {"a_x_idx": True, "b_y_idx": True}}


def test_a_failure_part_way_says_what_stayed_applied_and_the_next_apply_resumes(project, pg):
    (project.root / "migguard.toml").write_text(CONFIG.format(retries=1))
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_indexes.sql", INDEXES)
    plan = saved_plan(project)
    holder = Holder(pg, seconds=120)
    try:
        failed = migguard(project, "apply", "--confirm-live", "--plan", str(plan))
    finally:
        holder.stop()
    assert failed.returncode == 3, failed.stderr
    message = failed.stderr
    assert "failed at statement 3 (line 4: CREATE INDEX CONCURRENTLY IF NOT EXISTS b_y_idx ON b (y))" in message
    assert "lock_timeout 300ms fired 2 times" in message
    assert "statement(s) 1, 2 of it ran before the failure and STAY APPLIED" in message
    assert "statement 1 (line 1: CREATE INDEX CONCURRENTLY IF NOT EXISTS a_x_idx ON a (x)): undo with" in message
    assert 'DROP INDEX CONCURRENTLY IF EXISTS "a_x_idx";' in message
    assert "statement 2 (line 3: INSERT INTO plans (name) VALUES ('free')): migguard cannot derive its undo" in message
    assert "resumes at statement 3" in message and "rolled back" not in message
    assert state(pg) == {"history": ["0001"], "progress": [("0002", 1), ("0002", 2)], "seed": 1,
                         "indexes": {"a_x_idx": True}}
    audit = audit_entries(project)
    assert audit[-1]["result"] == "failed" and "STAY APPLIED" in audit[-1]["details"]["error"]

    # A statement that ran is edited afterwards: the plan reports it (partial-migration-edited), and
    # even when that finding is accepted the runner refuses to resume a different migration.
    write(project, "0002_indexes.sql", INDEXES.replace("ON a (x)", "ON a (x, id)"))
    edited = migguard(project, "apply", "--confirm-live", "--accept-drift", "--accept", "partial-migration-edited")
    assert edited.returncode == 1, edited.stderr
    assert "error[partial-migration-edited] migration 0002: Migration 0002 ran part way" in edited.stderr
    assert "statement 1 (line 1: CREATE INDEX CONCURRENTLY IF NOT EXISTS a_x_idx ON a (x)) is now statement 1" in edited.stderr
    assert "does not resume an edited migration" in edited.stderr
    assert state(pg)["progress"] == [("0002", 1), ("0002", 2)] and state(pg)["seed"] == 1

    # The file as it ran, the lock gone: the next apply resumes at statement 3 and repeats nothing.
    # (Production holds a_x_idx and the seed row, which the plan replays from the progress rows: no drift.)
    write(project, "0002_indexes.sql", INDEXES)
    resumed = migguard(project, "apply", "--confirm-live")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at statement 3 (statement(s) 1, 2 ran before" in resumed.stderr
    assert state(pg) == {"history": ["0001", "0002"], "progress": [], "seed": 1,
                         "indexes": {"a_x_idx": True, "b_y_idx": True}}
    outputs = failed.stdout + failed.stderr + edited.stdout + edited.stderr + resumed.stdout + resumed.stderr
    assert SENTINEL not in outputs + audit_path(project).read_text()


SLOW_TIMEOUT = """CREATE TABLE marker (id int);
SET statement_timeout = '2h';
ALTER TABLE a ADD COLUMN z int;
"""


def test_a_timeout_above_the_ceiling_is_refused_by_lint_and_by_the_runner(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_slow.sql", SLOW_TIMEOUT)
    linted = migguard(project, "apply", "--confirm-live")
    assert linted.returncode == 1 and "ban-unbounded-timeout" in linted.stderr, linted.stderr
    # An ignore silences lint; the runner holds the ceiling itself, before anything of the migration runs.
    write(project, "0002_slow.sql", SLOW_TIMEOUT.replace(
        "SET statement_timeout", "-- migguard:ignore ban-unbounded-timeout -- the backfill is slow\nSET statement_timeout"))
    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1, refused.stderr
    assert ("migration 0002 (0002_slow.sql) statement 2 (line 3: SET statement_timeout = '2h') sets statement_timeout "
            "to 2h, above the ceiling 15min: refused before the migration ran") in refused.stderr
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT to_regclass('marker')").fetchone()[0] is None
        assert [r[0] for r in conn.execute("SELECT version FROM migguard.schema_migrations")] == ["0001"]
    # A ceiling raised in the configuration is the team's reviewed yes.
    (project.root / "migguard.toml").write_text(CONFIG.format(retries=1) + 'max_statement_timeout = "2h"\n')
    allowed = migguard(project, "apply", "--confirm-live")
    assert allowed.returncode == 0, allowed.stderr
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT to_regclass('marker')").fetchone()[0] is not None


def test_disabling_a_timeout_is_refused_whatever_the_ceiling(project, pg):
    write(project, "0002_off.sql", "CREATE TABLE marker (id int);\nRESET lock_timeout;\n")
    runner = Runner(pg, "migguard.schema_migrations", "300ms", "15min", 0, max_lock_timeout="1d")
    with pytest.raises(GateRefused, match=r"statement 2 \(line 2: RESET lock_timeout\) switches lock_timeout off"):
        runner.run(discover(project.migrations))
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT to_regclass('a'), to_regclass('marker')").fetchone() == (None, None)


def test_the_runner_runs_only_the_bytes_the_gates_checked(project, pg):
    migrations = discover(project.migrations)
    checked = {"0001": checksum(TABLES)}
    write(project, "0001_tables.sql", TABLES + "DROP TABLE plans;\n")  # changed after the gates read it
    runner = Runner(pg, "migguard.schema_migrations", "300ms", "15min", 0, expected_checksums=checked)
    with pytest.raises(GateRefused, match="0001 .* changed since the gates checked it"):
        runner.run(migrations)
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT to_regclass('a')").fetchone()[0] is None
    write(project, "0001_tables.sql", TABLES)  # a Migration reads its file once: discover it again
    assert runner.run(discover(project.migrations)).applied == ["0001"]
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT checksum FROM migguard.schema_migrations").fetchone()[0] == checked["0001"]


def test_the_files_own_transaction_block_is_recorded_with_its_commit(project, pg):
    """BEGIN … COMMIT in a CONCURRENTLY file: its statements and their progress commit together."""
    Runner(pg, "migguard.schema_migrations", "300ms", "15min", 0).run(discover(project.migrations))
    write(project, "0002_block.sql", "BEGIN;\nINSERT INTO plans (name) VALUES ('free');\nCOMMIT;\n" + INDEXES)
    runner = Runner(pg, "migguard.schema_migrations", "300ms", "15min", 0, sleep=lambda _: None)
    pending = discover(project.migrations)[1:]
    holder = Holder(pg, seconds=120)
    try:
        with pytest.raises(MigrationError, match="failed at statement 6"):
            runner.run(pending)
    finally:
        holder.stop()
    assert state(pg)["progress"] == [("0002", n) for n in range(1, 6)] and state(pg)["seed"] == 2
    runner.run(pending)
    assert state(pg) == {"history": ["0001", "0002"], "progress": [], "seed": 2,
                         "indexes": {"a_x_idx": True, "b_y_idx": True}}
