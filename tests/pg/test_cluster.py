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


def test_container_fallback_when_a_docker_engine_answers():
    from migguard.pg.cluster import ContainerServer

    if not ContainerServer.available():
        pytest.skip("no Docker engine answers on this machine: the testcontainers fallback cannot run here")
    server = ContainerServer()
    url = server.start()
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        server.stop()
