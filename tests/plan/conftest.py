"""Clusters of a chosen major for the tests where production's major and the shadow's differ:
the bundled server (no contrib modules) as the shadow, the machine's PostgreSQL 15 as production."""

from __future__ import annotations

import pytest

from migguard.pg.cluster import bundled_binaries, local_binaries
from tests.conftest import fresh_database


@pytest.fixture(scope="session")
def bundled_cluster(cluster_pool):
    """The bundled server (the pgserver wheel: PostgreSQL 16, no contrib), whatever major `pg_cluster` is
    (the session's cluster of those binaries, shared with pg_cluster)."""
    binaries = bundled_binaries()
    if binaries is None:
        pytest.fail("the pgserver wheel is a dependency: no bundled server is an install bug")
    return cluster_pool(binaries)


@pytest.fixture(scope="session")
def pg15_cluster(cluster_pool):
    """A local PostgreSQL 15 with its contrib modules (the Debian layout of this machine and CI)."""
    binaries = next((b for b in local_binaries() if b.major == 15), None)
    if binaries is None:
        pytest.skip("no local PostgreSQL 15 server binaries (postgresql-15)")
    return cluster_pool(binaries)


@pytest.fixture
def pg15(pg15_cluster):
    """URL of a fresh database on the PostgreSQL 15 cluster: production on another major than the shadow."""
    yield from fresh_database(pg15_cluster, "p")
