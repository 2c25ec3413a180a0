"""The shadow runs on production's PostgreSQL major (SPEC section 5, step 2; issue 11 item 3).

`choose_for` is tested as a pure function over lists of installations, and against the machine's
(`available_binaries()`); `ShadowServer` and the CLI against real servers: a production on each
major this machine has (the bundled 16, the local 15) gets a shadow of that major whatever the
default server is, so a view, which PostgreSQL 15 and 16 deparse differently, is not drift; a
PG_SHADOW_URL on another major is planned with the `shadow-major-mismatch` finding and one
warning line (and shows that drift).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from migguard.core.errors import DatabaseError
from migguard.core.sources import discover
from migguard.pg.cluster import Binaries, Cluster, available_binaries, bundled_binaries, choose_for
from migguard.pg.history import AppliedMigration, ensure_table, record
from migguard.pg.shadow import ShadowServer, server_major
from tests.apply.livekit import make_project, migguard, newest_plan

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "2s"
"""
# PostgreSQL 15 deparses this view as `SELECT invoices.id, …`, 16 as `SELECT id, …`.
INVOICES = """CREATE TABLE invoices (id bigint PRIMARY KEY, number text NOT NULL, paid_at timestamptz);
CREATE VIEW open_invoices AS SELECT id, number FROM invoices WHERE paid_at IS NULL;
"""


def _installation(root: Path, name: str, major: int, extensions: tuple[str, ...] = ()) -> Binaries:
    """An installation laid out on disk only as far as `Binaries.extensions` reads it."""
    bin_dir = root / name / "bin"
    bin_dir.mkdir(parents=True)
    controls = root / name / "share" / "postgresql" / "extension"
    controls.mkdir(parents=True)
    for extension in extensions:
        (controls / f"{extension}.control").write_text("")
    return Binaries(bin_dir, major, "bundled (pgserver)" if name == "bundled" else str(bin_dir))


def _no_docker() -> bool:
    return False


def _docker_must_not_be_asked() -> bool:
    raise AssertionError("Docker asked although an installation fits")


# --- choose_for, pure ------------------------------------------------------------------------------


def test_a_major_nobody_has_falls_back_to_the_bundled_server_with_the_mismatch(tmp_path):
    bundled = _installation(tmp_path, "bundled", 16)
    options = [bundled, _installation(tmp_path, "pg15", 15)]
    choice = choose_for(13, options, _no_docker)
    assert choice.binaries == bundled and choice.container_major is None
    mismatch = choice.mismatch
    assert (mismatch.production, mismatch.shadow, mismatch.kind) == (13, 16, "ephemeral")
    line = mismatch.line()
    assert "\n" not in line
    assert line.startswith("production runs PostgreSQL 13 but no PostgreSQL 13 server is available here, so the "
                           "shadow runs PostgreSQL 16, the bundled server")
    assert "PG_SHADOW_URL to a PostgreSQL 13 server" in mismatch.hint


def test_a_major_nobody_has_falls_back_to_the_default_with_contrib(tmp_path):
    local = _installation(tmp_path, "pg15", 15, ("pg_trgm", "pgcrypto"))
    choice = choose_for(13, [_installation(tmp_path, "bundled", 16), local], _no_docker)
    assert choice.binaries == local
    assert f"so the shadow runs PostgreSQL 15, from {local.bin_dir}:" in choice.mismatch.message


def test_a_major_nobody_has_runs_in_a_container_when_docker_answers(tmp_path):
    choice = choose_for(13, [_installation(tmp_path, "bundled", 16)], lambda: True)
    assert (choice.binaries, choice.container_major, choice.mismatch) == (None, 13, None)
    assert choice.major == 13


def test_production_s_major_wins_over_the_default_and_docker_is_not_asked(tmp_path):
    bundled = _installation(tmp_path, "bundled", 16)
    local = _installation(tmp_path, "pg15", 15)
    choice = choose_for(15, [bundled, local], _docker_must_not_be_asked)
    assert choice.binaries == local and choice.mismatch is None


def test_of_two_installations_of_the_major_the_one_with_more_extensions(tmp_path):
    bare = _installation(tmp_path, "bundled", 16, ("plpgsql",))
    contrib = _installation(tmp_path, "pg16", 16, ("plpgsql", "pg_trgm", "citext"))
    assert choose_for(16, [bare, contrib], _docker_must_not_be_asked).binaries == contrib


def test_without_production_the_installation_with_most_extensions_bundled_first_among_equals(tmp_path):
    bundled = _installation(tmp_path, "bundled", 16, ("plpgsql",))
    bare = _installation(tmp_path, "pg14", 14, ("plpgsql",))
    contrib = _installation(tmp_path, "pg15", 15, ("plpgsql", "pg_trgm"))
    assert choose_for(None, [bundled, bare], _docker_must_not_be_asked).binaries == bundled
    assert choose_for(None, [bundled, bare, contrib], _docker_must_not_be_asked).binaries == contrib


def test_no_server_at_all_is_a_database_error_naming_the_major():
    with pytest.raises(DatabaseError, match="no PostgreSQL 15 server binaries found"):
        choose_for(15, [], _no_docker)


def test_the_machine_s_installations_serve_their_own_major():
    """On this machine: production on 15 → the local 15, on 16 → the bundled 16."""
    options = available_binaries()
    for major in {b.major for b in options}:
        choice = choose_for(major, options, _docker_must_not_be_asked)
        assert choice.binaries.major == major and choice.mismatch is None
    bundled = bundled_binaries()
    assert choose_for(bundled.major, options, _docker_must_not_be_asked).binaries == bundled


# --- real servers ---------------------------------------------------------------------------------


@pytest.mark.pg
def test_the_ephemeral_shadow_runs_on_production_s_major(pg, pg_cluster):
    warnings: list[str] = []
    with ShadowServer(production=pg, warn=warnings.append) as shadow:
        assert server_major(shadow.url) == pg_cluster.binaries.major
        assert shadow.cluster.binaries.major == pg_cluster.binaries.major
    assert shadow.mismatch is None and warnings == []


def _other_major(major: int):
    """An installation of another major than `major`; skips when this machine has only one."""
    others = [b for b in available_binaries() if b.major != major]
    if not others:
        pytest.skip("one PostgreSQL major on this machine: no other major to test against")
    return others[0]


@pytest.fixture
def project(tmp_path, pg):
    """Production (a fresh database on the session cluster) holding 0001, a table and a view,
    created and recorded as applied by hand; no PG_SHADOW_URL."""
    project = make_project(tmp_path, CONFIG, pg, "", {"0001_invoices.sql": INVOICES})
    migration = discover(project.migrations)[0]
    with psycopg.connect(pg) as conn:
        conn.execute(INVOICES)
        ensure_table(conn, "migguard.schema_migrations")
        record(conn, "migguard.schema_migrations",
               AppliedMigration("0001", "invoices", migration.checksum(), None, "psql",
                                datetime.now(timezone.utc), None))
    return project


def _plan(project, **env):
    done = migguard(project, "plan", "--format", "json", env=env)
    report = json.loads(done.stdout)
    plan = json.loads((newest_plan(project) / "plan.json").read_text())
    return done, report, plan


@pytest.mark.pg
@pytest.mark.e2e
@pytest.mark.all_majors  # the point is the major: production on each one this machine has
def test_plan_replays_on_production_s_major(project):
    """Production on 15 and on 16, whichever the default server is: no drift, no mismatch."""
    done, report, plan = _plan(project)
    assert done.returncode == 0, done.stderr
    assert not {f["rule"] for f in report["findings"]} & {"schema-drift", "shadow-major-mismatch"}
    # the view, deparsed by the same major on both sides, is not drift (see the next test)
    assert plan["drift"] == [] and "warning" not in done.stderr


@pytest.fixture
def other_cluster(pg_cluster):
    cluster = Cluster(_other_major(pg_cluster.binaries.major)).start()
    yield cluster
    cluster.stop()


@pytest.mark.pg
@pytest.mark.e2e
def test_plan_with_a_shadow_url_of_another_major_says_so(project, pg_cluster, other_cluster):
    production, shadow = pg_cluster.binaries.major, other_cluster.binaries.major
    done, report, plan = _plan(project, PG_SHADOW_URL=other_cluster.url())
    warnings = [line for line in done.stderr.splitlines() if line.startswith("migguard: warning:")]
    assert warnings == [(f"migguard: warning: production runs PostgreSQL {production} but the shadow server "
                         f"(PG_SHADOW_URL) runs PostgreSQL {shadow}: SQL that PostgreSQL deparses "
                         "(view definitions, defaults, policies) can differ between majors, and so can what replays. "
                         f"Point PG_SHADOW_URL at a PostgreSQL {production} server.")]
    found = [f for f in plan["findings"] if f["rule"] == "shadow-major-mismatch"]
    assert [(f["severity"], f["path"]) for f in found] == [("info", "db:shadow")]
    assert found == [f for f in report["findings"] if f["rule"] == "shadow-major-mismatch"]
    # the view deparsed by two majors is no drift: production's schema is read on the shadow too
    assert done.returncode == 0 and plan["drift"] == []


@pytest.mark.pg
@pytest.mark.e2e
def test_shadow_start_follows_production_s_major_unless_told(project, pg_cluster):
    state_file = project.root / ".migguard" / "shadow.json"
    try:
        started = migguard(project, "shadow", "start")
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith(f"shadow running: PostgreSQL {pg_cluster.binaries.major} ")
        assert server_major(json.loads(state_file.read_text())["url"]) == pg_cluster.binaries.major
        assert migguard(project, "shadow", "stop").returncode == 0
        other = _other_major(pg_cluster.binaries.major).major
        started = migguard(project, "shadow", "start", "--pg-version", str(other))
        assert started.returncode == 0, started.stderr
        assert server_major(json.loads(state_file.read_text())["url"]) == other
    finally:
        migguard(project, "shadow", "stop")
