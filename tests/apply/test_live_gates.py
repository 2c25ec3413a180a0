"""The live path honours the plan and executes exactly the bytes the gates checked (issue 10,
items 1 and 2), through the real CLI on a real PostgreSQL, asserting production afterwards.

Production is a fresh database on the session cluster; the shadow is the same cluster. The
production URL carries a sentinel password that must never appear in any output or file.
"""

import hashlib
import os
import subprocess
import sys
import time

import psycopg
import pytest

from tests.apply.livekit import (
    NOTES,
    SENTINEL,
    audit_entries,
    ensure_app_user,
    make_project,
    migguard,
    newest_plan,
    with_password,
    write,
)

# The first major only: the gates decide from the files, the lock and the plan's findings; the
# database steps behind those findings are tested on every major (tests/rls, tests/plan).
pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "2s"
pg_version = 15
"""

# Lint-clean, and it opens every tenant's notes that have a body to every tenant (OR-combined).
WIDENING = """SET lock_timeout = '2s';
CREATE POLICY support_read ON notes FOR SELECT TO app_user USING (body IS NOT NULL);
"""

ACCOUNTS = """SET lock_timeout = '2s';
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE victim (id int PRIMARY KEY);
"""


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    ensure_app_user(pg_cluster.url())
    return make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url())


def history(url: str) -> dict[str, str]:
    """version -> checksum of production's history table."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('migguard.schema_migrations')").fetchone()[0] is None:
            return {}
        return dict(conn.execute("SELECT version, checksum FROM migguard.schema_migrations ORDER BY version"))


def public_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def policies(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT polname FROM pg_policy WHERE polrelid = 'notes'::regclass")}


def test_a_widening_policy_is_refused_live_and_in_the_dry_run_until_accepted(project, pg):
    write(project, "0001_notes.sql", NOTES)
    first = migguard(project, "apply", "--confirm-live")
    assert first.returncode == 0, first.stderr
    write(project, "0002_support_read.sql", WIDENING)

    planned = migguard(project, "plan")
    assert planned.returncode == 1 and "rls-permissive-or-widening" in planned.stdout, planned.stderr

    dry = migguard(project, "apply")
    assert dry.returncode == 1, dry.stderr
    assert "error[rls-permissive-or-widening]" in dry.stdout and "(not accepted)" in dry.stdout
    assert "CREATE POLICY support_read" in dry.stdout and "--confirm-live would REFUSE" in dry.stdout
    assert "rls-permissive-or-widening at " in dry.stderr.splitlines()[-1]

    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1
    assert "rls-permissive-or-widening" in refused.stderr.splitlines()[-1] and "--accept" in refused.stderr
    assert policies(pg) == {"tenant_isolation"} and list(history(pg)) == ["0001"]
    last = audit_entries(project, verified=True)[-1]
    assert last["result"] == "refused" and last["details"]["live"] is True
    assert "rls-permissive-or-widening" in last["details"]["reason"]

    # The flag: the dry run now exits as the live run would, 0, and says what it accepts.
    accepted_dry = migguard(project, "apply", "--accept", "rls-permissive-or-widening")
    assert accepted_dry.returncode == 0, accepted_dry.stderr
    assert "(accepted: rls-permissive-or-widening (flag))" in accepted_dry.stdout
    assert policies(pg) == {"tenant_isolation"} and list(history(pg)) == ["0001"]

    # The config entry, with its reason: applied, and the acceptance printed and audited.
    reason = "support reads bodies across tenants; approved by security, ticket SEC-42"
    (project.root / "migguard.toml").write_text(CONFIG + f'\n[tool.migguard.accept]\nrls-permissive-or-widening = "{reason}"\n')
    applied = migguard(project, "apply", "--confirm-live")
    assert applied.returncode == 0, applied.stderr
    assert f"ACCEPTED rls-permissive-or-widening ([tool.migguard.accept]: {reason})" in applied.stderr
    assert policies(pg) == {"tenant_isolation", "support_read"} and list(history(pg)) == ["0001", "0002"]
    last = audit_entries(project, verified=True)[-1]
    assert last["result"] == "applied" and last["migrations"] == ["0002"]
    assert last["details"]["accepted"] == [{"id": "rls-permissive-or-widening", "source": "config", "reason": reason}]
    outputs = [r.stdout + r.stderr for r in (first, planned, dry, refused, accepted_dry, applied)]
    written = [p.read_bytes().decode("utf-8", "replace") for p in project.root.rglob("*") if p.is_file()]
    assert SENTINEL not in "".join(outputs + written)


def test_acceptances_of_unknown_ids_or_without_a_reason_are_refused_before_anything_runs(project, pg):
    write(project, "0001_accounts.sql", ACCOUNTS)
    flag = migguard(project, "apply", "--confirm-live", "--accept", "rls-permisive-or-widening")
    assert flag.returncode == 2 and "--accept rls-permisive-or-widening: unknown finding id" in flag.stderr
    for table, message in (('nope = "because"', "invalid value for 'accept': unknown finding id 'nope'"),
                           ('schema-drift = "  "', "invalid value for 'accept.schema-drift': a reason is required")):
        (project.root / "migguard.toml").write_text(CONFIG + f"\n[tool.migguard.accept]\n{table}\n")
        bad = migguard(project, "apply", "--confirm-live")
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    assert history(pg) == {} and not (project.root / ".migguard" / "audit.jsonl").exists()


def test_a_data_precheck_that_says_the_migration_will_fail_applies_nothing(project, pg):
    write(project, "0001_accounts.sql", ACCOUNTS)
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (name) VALUES ('a'), ('a much longer name')")
    write(project, "0002_note.sql", "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN note text;\n")
    write(project, "0003_short_names.sql",
          "SET lock_timeout = '2s';\n"
          "-- migguard:ignore constraint-missing-not-valid -- a small table, validated at once\n"
          "ALTER TABLE accounts ADD CONSTRAINT short_name CHECK (char_length(name) < 10);\n")
    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1, refused.stderr
    assert "precheck-check at db:public.accounts.short_name" in refused.stderr.splitlines()[-1]
    assert "the migration will fail" in refused.stderr
    assert list(history(pg)) == ["0001"]
    with psycopg.connect(pg) as conn:  # neither 0002 nor 0003 ran: nothing is half-applied
        columns = {r[0] for r in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'accounts'::regclass "
                                              "AND attnum > 0 AND NOT attisdropped")}
        constraints = {r[0] for r in conn.execute("SELECT conname FROM pg_constraint "
                                                  "WHERE conrelid = 'accounts'::regclass")}
    assert "note" not in columns and "short_name" not in constraints
    assert audit_entries(project, verified=True)[-1]["result"] == "refused"


# migguard, with the backup step held until the test says go (a slow pg_dump, made deterministic).
HELD_BACKUP = """
import sys, time
from pathlib import Path
import migguard.apply.command as command
real, signals = command.take_backup, Path(sys.argv[1])
def held(*args, **kwargs):
    (signals / "backup-started").touch()
    while not (signals / "go").exists():
        time.sleep(0.02)
    return real(*args, **kwargs)
command.take_backup = held
from migguard.cli import main
sys.argv = ["migguard", *sys.argv[2:]]
main()
"""


def test_a_file_overwritten_while_the_backup_runs_is_not_what_runs(project, pg, tmp_path_factory):
    """The gates read each file once, under the lock, and the runner executes that text: a DROP
    TABLE written over the pending file while the backup runs never reaches production."""
    write(project, "0001_accounts.sql", ACCOUNTS)
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    checked = "SET lock_timeout = '2s';\nCREATE TABLE marker (id int);\n"
    write(project, "0002_marker.sql", checked)
    assert migguard(project, "plan").returncode == 0
    plan = newest_plan(project)

    directory, env = project.root, project.env
    signals = tmp_path_factory.mktemp("signals")
    process = subprocess.Popen([sys.executable, "-c", HELD_BACKUP, str(signals), "apply", "--confirm-live", "--plan",
                                str(plan)], cwd=directory, env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (signals / "backup-started").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the backup never started: {process.communicate()[1]}")
        time.sleep(0.02)
    write(project, "0002_marker.sql", "DROP TABLE victim;\n")
    (signals / "go").touch()
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert {"victim", "marker"} <= public_tables(pg)
    assert history(pg)["0002"] == hashlib.sha256(checked.encode()).hexdigest()
    # The next run reads the file anew: the edit is caught as an applied migration changed after it ran.
    again = migguard(project, "apply", "--confirm-live")
    assert again.returncode == 1 and "checksum mismatch" in again.stderr
    assert {"victim", "marker"} <= public_tables(pg)


def test_the_runner_refuses_a_migration_whose_text_is_not_the_checked_one(pg, tmp_path):
    from migguard.apply.runner import Runner
    from migguard.core.errors import GateRefused
    from migguard.core.sources import checksum, discover

    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE victim (id int)")
    (tmp_path / "0001_drop.sql").write_text("DROP TABLE victim;\n")
    runner = Runner(pg, "migguard.schema_migrations",
                    expected_checksums={"0001": checksum("CREATE TABLE marker (id int);\n")})
    with pytest.raises(GateRefused, match="changed since the gates checked it"):
        runner.run(discover(tmp_path))
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT to_regclass('victim')").fetchone()[0] == "victim"
    assert history(pg) == {}
