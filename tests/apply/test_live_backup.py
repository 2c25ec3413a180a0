"""The backup before a live apply, attacked and interrupted, on a real PostgreSQL through the CLI.

pg_dump is held mid-dump by a lock the test keeps on a table (pg_dump waits for ACCESS SHARE on
every table it dumps; the gates before it read only the catalog), so its file can be inspected
while it is being written and migguard can be killed at that moment.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from migguard.apply.backup import remove_stale_partials
from migguard.core.audit import verify
from tests.apply.livekit import (
    Project,
    applied_versions,
    audit_entries,
    columns,
    make_project,
    migguard,
    newest_plan,
    start,
    write,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e, pytest.mark.all_majors]

CONFIG = '[tool.migguard]\nmigrations = "db/migrations"\nlock_timeout = "2s"\n'
# `parked` has no index or constraint: the gates' catalog reads never lock it, pg_dump's COPY does.
SCHEMA = ("SET lock_timeout = '2s';\n"
          "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\n"
          "CREATE TABLE parked (payload text);\n")
ADD_NOTE = "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN note text;\n"


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG, pg, pg_cluster.url(), {"0001_schema.sql": SCHEMA})


def backups(project) -> Path:
    return project.root / ".migguard" / "backups"


def pg_dumps_writing(partial: Path) -> list[int]:
    """Processes whose command line names the partial file (pg_dump writing it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(partial).encode() == arg for arg in argv):
            found.append(int(entry.name))
    return found


def gone(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not [pid for pid in pids if Path(f"/proc/{pid}").exists()
                and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2:3]]:
            return True
        time.sleep(0.1)
    return False


def park_pg_dump(project, url: str) -> tuple[psycopg.Connection, subprocess.Popen, Path, list[int]]:
    """Start `apply --confirm-live` of a saved plan with `parked` locked; return when pg_dump is
    writing its partial file: (the lock's connection, migguard, the partial file, pg_dump's pids)."""
    assert migguard(project, "plan").returncode == 0
    plan = newest_plan(project)
    holder = psycopg.connect(url)
    holder.execute("LOCK TABLE parked IN ACCESS EXCLUSIVE MODE")
    process = start(project, "apply", "--confirm-live", "--plan", str(plan))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        partials = list(backups(project).glob("*.partial")) if backups(project).exists() else []
        pids = pg_dumps_writing(partials[0]) if partials else []
        if pids:
            return holder, process, partials[0], pids
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    holder.close()
    pytest.fail(f"pg_dump never started writing: {process.communicate()}")


def test_dump_is_private_while_written_and_a_killed_apply_leaves_no_pg_dump_and_no_backup(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (name) VALUES ('a'), ('b')")
    write(project, "0002_note.sql", ADD_NOTE)
    holder, process, partial, pids = park_pg_dump(project, pg)
    try:
        # Private from the first byte: nobody else may read it, not even while pg_dump writes it.
        assert partial.stat().st_mode & 0o777 == 0o600
        assert backups(project).stat().st_mode & 0o777 == 0o700
        assert len(list(backups(project).glob("*.dump"))) == 1  # the first apply's, finished
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert gone(pids), "pg_dump outlived a SIGKILLed migguard"
    finally:
        holder.close()
    # Production is as before the apply; the killed run's partial file is recognisable, not a backup.
    assert applied_versions(pg) == ["0001"] and "note" not in columns(pg)
    assert partial.exists() and partial.name.endswith(".partial")
    # The next run removes it, takes a complete backup and applies.
    again = migguard(project, "apply", "--confirm-live")
    assert again.returncode == 0, again.stderr
    assert not list(backups(project).glob("*.partial"))
    dumps = sorted(backups(project).glob("*.dump"))
    assert len(dumps) == 2 and all(d.stat().st_mode & 0o777 == 0o600 for d in dumps)
    assert applied_versions(pg) == ["0001", "0002"] and "note" in columns(pg)
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 2
    assert verify(project.root / ".migguard" / "audit.jsonl").ok


def test_sigterm_during_the_backup_stops_pg_dump_removes_the_partial_file_and_is_audited(project, pg):
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    write(project, "0002_note.sql", ADD_NOTE)
    holder, process, partial, pids = park_pg_dump(project, pg)
    try:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        holder.close()
    assert process.returncode == 4, stderr
    assert "backup interrupted by SIGTERM" in stderr and "nothing was applied" in stderr
    assert gone(pids) and not partial.exists() and not list(backups(project).glob("*.partial"))
    assert applied_versions(pg) == ["0001"] and "note" not in columns(pg)
    last = audit_entries(project)[-1]
    assert last["result"] == "refused" and "backup interrupted by SIGTERM" in json.dumps(last)
    assert verify(project.root / ".migguard" / "audit.jsonl").ok


def test_backup_refused_under_force_rls_before_pg_dump_runs(project, pg):
    """The table owner is not a superuser and the table forces RLS: pg_dump would refuse to dump it
    (row_security is off in pg_dump), so the preflight refuses first, naming BYPASSRLS (exit 3).
    pg_dump's own stderr in that case: tests/pg/test_tool_stderr.py."""
    directory, env = project.root, project.env
    (directory / "db" / "migrations" / "0001_schema.sql").write_text(
        SCHEMA + "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\nALTER TABLE accounts FORCE ROW LEVEL SECURITY;\n"
                 "CREATE POLICY named_only ON accounts USING (name IS NOT NULL);\n")
    with psycopg.connect(pg, autocommit=True) as conn:  # production and shadow used as a role that is no superuser
        conn.execute("DO $$ BEGIN CREATE ROLE mg_owner LOGIN CREATEDB CREATEROLE; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute(f'ALTER DATABASE "{conn.info.dbname}" OWNER TO mg_owner')
    as_owner = lambda url: url.replace("postgresql://postgres@", "postgresql://mg_owner@")
    owner = Project(directory, {**env, "PG_PROD_URL": as_owner(pg), "PG_SHADOW_URL": as_owner(env["PG_SHADOW_URL"])})
    first = migguard(owner, "apply", "--confirm-live")
    assert first.returncode == 0, first.stderr
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (name) VALUES ('a')")
    (directory / "db" / "migrations" / "0002_note.sql").write_text(ADD_NOTE)
    result = migguard(owner, "apply", "--confirm-live")
    assert result.returncode == 3, result.stderr
    error = next(line for line in result.stderr.splitlines() if line.startswith("migguard: error: "))
    assert error.startswith("migguard: error: production refuses what apply needs: role mg_owner lacks BYPASSRLS: "
                            "the backup (pg_dump) reads every row of public.accounts under FORCE ROW LEVEL SECURITY")
    assert not list(backups(project).glob("*.partial")) and len(list(backups(project).glob("*.dump"))) == 1
    assert applied_versions(pg) == ["0001"] and "note" not in columns(pg)
    assert audit_entries(project)[-1]["result"] == "refused"


def test_only_the_partial_files_of_dead_processes_are_removed(tmp_path):
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        mine = tmp_path / f"20260101T000000Z-abc.dump.{alive.pid}.partial"
        stale = tmp_path / f"20260101T000000Z-abc.dump.{dead.pid}.partial"
        finished = tmp_path / "20260101T000000Z-abc.dump"
        for path in (mine, stale, finished):
            path.write_bytes(b"x")
        assert remove_stale_partials(tmp_path) == (stale,)
        assert mine.exists() and finished.exists() and not stale.exists()
    finally:
        alive.kill()
        alive.wait()
