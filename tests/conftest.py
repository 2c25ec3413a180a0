"""Shared fixtures: one ephemeral PostgreSQL cluster per available major version for the session,
and a fresh database per test on it. No PostgreSQL service needs to be running."""

from __future__ import annotations

import itertools
import os

import psycopg
import pytest

from migguard.pg.cluster import Binaries, Cluster, available_binaries


def _majors():
    """One installation per major version (bundled first), e.g. the bundled 16 and the machine's 15."""
    chosen = {}
    for binaries in available_binaries():
        chosen.setdefault(binaries.major, binaries)
    return list(chosen.values())


_BINARIES = _majors()
_counter = itertools.count()


@pytest.fixture(scope="session")
def cluster_pool():
    """One running cluster per installation for the whole session, started on first use: a session
    fixture parametrised by major (pg_cluster) is torn down each time a worker's next test wants the
    other major, and tests/plan's clusters of the same binaries would be two more servers to start."""
    clusters: dict[Binaries, Cluster] = {}

    def cluster_for(binaries: Binaries) -> Cluster:
        if binaries not in clusters:
            clusters[binaries] = Cluster(binaries).start()
        return clusters[binaries]

    yield cluster_for
    for cluster in clusters.values():
        cluster.stop()


@pytest.fixture(scope="session", params=_BINARIES or [None], ids=lambda b: f"pg{b.major}" if b else "no-pg")
def pg_cluster(request, cluster_pool):
    if request.param is None:
        pytest.fail("no PostgreSQL server binaries: the pgserver wheel is a dependency, so this is an install bug")
    return cluster_pool(request.param)


def fresh_database(cluster, prefix: str = "t"):
    """Yield the URL of a fresh, empty database on `cluster`; dropped afterwards (a fixture's body)."""
    name = f"{prefix}{next(_counter)}"
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield cluster.url(name)
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg(pg_cluster):
    """URL of a fresh, empty database on the session cluster, dropped afterwards."""
    yield from fresh_database(pg_cluster)


def pytest_collection_modifyitems(config, items):
    """End-to-end tests (marked e2e) run on the first available major only: the layers they
    exercise are tested on every major by the database-level tests, and running the CLI flows
    twice would double the suite's time. MIGGUARD_ALL_MAJORS=1 runs them on every major. Tests
    marked `all_majors` (the live path's fault tests: production's state after an attack or an
    accident) run on every major always."""
    if os.environ.get("MIGGUARD_ALL_MAJORS") or len(_BINARIES) < 2:
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.get_closest_marker("e2e") and not item.get_closest_marker("all_majors") and params.get("pg_cluster") not in (None, _BINARIES[0]):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
