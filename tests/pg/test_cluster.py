import psycopg
import pytest

from migguard.pg.cluster import Cluster, available_binaries, bundled_binaries

pytestmark = pytest.mark.pg


def test_bundled_server_is_found():
    bundled = bundled_binaries()
    assert bundled is not None and bundled.major >= 13, "the pgserver wheel should provide a server"


def test_fresh_database_is_empty_and_writable(pg):
    with psycopg.connect(pg) as conn:
        tables = conn.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone()[0]
        conn.execute("create table probe (id int)")
        assert tables == 0


def test_cluster_serves_its_major_version(pg_cluster):
    with psycopg.connect(pg_cluster.url()) as conn:
        version = conn.execute("show server_version_num").fetchone()[0]
    assert int(version) // 10000 == pg_cluster.binaries.major


def test_stop_removes_the_directory():
    binaries = available_binaries()[0]
    cluster = Cluster(binaries).start()
    directory = cluster.directory
    assert cluster.running()
    cluster.stop()
    assert not directory.exists()


def test_without_binaries_or_a_docker_engine_the_shadow_says_what_to_install(monkeypatch, tmp_path):
    """The container fallback's refusal, on every machine (the test it replaces started a container
    and so skipped wherever no Docker engine answers, as on the machines this suite runs on)."""
    from migguard.core.errors import DatabaseError
    from migguard.pg import cluster, shadow
    from migguard.pg.shadow import ShadowServer

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")  # a socket nobody answers
    assert not cluster.ContainerServer.available()
    monkeypatch.setattr(shadow, "available_binaries", lambda: [])  # a machine without PostgreSQL
    server = ShadowServer()
    with pytest.raises(DatabaseError, match=r"^no PostgreSQL server binaries found \(install the pgserver wheel.*"
                                            r"PG_SHADOW_URL is not set$"):
        server.start()
    assert server.url is None and server.cluster is None
