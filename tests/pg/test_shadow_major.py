"""The shadow runs on production's PostgreSQL major (SPEC section 5, step 2; issue 11 item 3).

`choose_for` is tested as a pure function over lists of installations, and against the machine's
(`available_binaries()`); `ShadowServer` and the CLI against real servers: a production on a major
other than the bundled one (the machine's PostgreSQL 15) gets a shadow of that major, so a view,
which PostgreSQL 15 and 16 deparse differently, is not drift; a PG_SHADOW_URL on another major is
planned with the `shadow-major-mismatch` finding and one warning line.
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
    options = [bundled, _installation(tmp_path, "pg15", 15, ("pg_trgm",))]
    choice = choose_for(13, options, _no_docker)
    assert choice.binaries == bundled and choice.container_major is None
    mismatch = choice.mismatch
    assert (mismatch.production, mismatch.shadow, mismatch.kind) == (13, 16, "ephemeral")
    line = mismatch.line()
    assert "\n" not in line
    assert line.startswith("production runs PostgreSQL 13 but no PostgreSQL 13 server is available here, so the "
                           "shadow runs PostgreSQL 16, the bundled server")
    assert "PG_SHADOW_URL to a PostgreSQL 13 server" in mismatch.hint


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


def test_without_production_the_default_server(tmp_path):
    bundled = _installation(tmp_path, "bundled", 16)
    options = [bundled, _installation(tmp_path, "pg15", 15, ("pg_trgm",))]
    assert choose_for(None, options, _docker_must_not_be_asked).binaries == bundled


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


@pytest.fixture(scope="module")
def other_major():
    """A running cluster of a major that is not the default server's (the machine's PostgreSQL 15)."""
    default = available_binaries()[0]
    others = [b for b in available_binaries() if b.major != default.major]
    if not others:
        pytest.skip("one PostgreSQL major on this machine: no production on another major to test")
    cluster = Cluster(others[0]).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def production(other_major, request):
    """A database on `other_major` holding 0001 (a table and a view), recorded as applied by hand."""
    name = "prod_" + request.node.name[-40:].lower().replace("[", "_").replace("]", "")
    with psycopg.connect(other_major.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return other_major.url(name)


@pytest.fixture
def project(tmp_path, production):
    project = make_project(tmp_path, CONFIG, production, "", {"0001_invoices.sql": INVOICES})
    migration = discover(project.migrations)[0]
    with psycopg.connect(production) as conn:
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
def test_plan_on_a_production_of_another_major_replays_on_that_major(project, other_major):
    done, report, plan = _plan(project)
    assert done.returncode == 0, done.stderr
    assert not {f["rule"] for f in report["findings"]} & {"schema-drift", "shadow-major-mismatch"}
    # the view, deparsed by the same major on both sides, is not drift (see the next test)
    assert plan["drift"] == [] and "warning" not in done.stderr


@pytest.mark.pg
@pytest.mark.e2e
def test_plan_with_a_shadow_url_of_another_major_says_so(project, other_major, pg_cluster):
    if pg_cluster.binaries.major == other_major.binaries.major:
        pytest.skip("the session cluster runs production's major here")
    production = other_major.binaries.major
    done, report, plan = _plan(project, PG_SHADOW_URL=pg_cluster.url())
    warnings = [line for line in done.stderr.splitlines() if line.startswith("migguard: warning:")]
    assert warnings == [f"migguard: warning: production runs PostgreSQL {production} but the shadow server "
                        f"(PG_SHADOW_URL) runs PostgreSQL {pg_cluster.binaries.major}: SQL that PostgreSQL deparses "
                        "(view definitions, defaults, policies) can differ between majors, and so can what replays. "
                        f"Point PG_SHADOW_URL at a PostgreSQL {production} server."]
    found = [f for f in plan["findings"] if f["rule"] == "shadow-major-mismatch"]
    assert [(f["severity"], f["path"]) for f in found] == [("info", "db:shadow")]
    assert found == [f for f in report["findings"] if f["rule"] == "shadow-major-mismatch"]
    # the view deparsed by two majors: exactly the drift a shadow on production's major avoids
    assert done.returncode == 1 and [d for d in plan["drift"] if "open_invoices" in json.dumps(d)]


@pytest.mark.pg
@pytest.mark.e2e
def test_shadow_start_follows_production_s_major_unless_told(project, other_major):
    try:
        started = migguard(project, "shadow", "start")
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith(f"shadow running: PostgreSQL {other_major.binaries.major} ")
        state = json.loads((project.root / ".migguard" / "shadow.json").read_text())
        assert server_major(state["url"]) == other_major.binaries.major
        assert migguard(project, "shadow", "stop").returncode == 0
        default = available_binaries()[0].major
        started = migguard(project, "shadow", "start", "--pg-version", str(default))
        assert started.returncode == 0, started.stderr
        state = json.loads((project.root / ".migguard" / "shadow.json").read_text())
        assert server_major(state["url"]) == default
    finally:
        migguard(project, "shadow", "stop")
