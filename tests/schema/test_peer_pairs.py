"""Peer diff pairs as round-trip tests (issue 12, item 5): a representative subset of the schema
pairs of migra's fixtures and pg-schema-diff's acceptance cases (../shared/peers/diff, used by
path, never copied; SOURCES.md), each loaded on a real PostgreSQL, a copy of a turned into b by
forward_script(diff(a, b)) and back by reverse_script, judged by `pg_dump --schema-only` (the
columns of a table compared as a set). `bench/diff_peers.py` runs the whole suite and prints the
pass count; this is the part that runs with the tests: one or two pairs per object kind, all of
them exact today, so a regression in the diff shows here.

The suite is looked for at ../shared/peers/diff beside the repository (MIGGUARD_PEERS_DIR
overrides, for a checkout elsewhere); without it the module is skipped. A pair that needs an
extension the server lacks (the bundled PostgreSQL ships only plpgsql and vector) is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.diff_peers import Case, Server, cases, round_trip

# e2e: each pair costs seconds (five databases, four pg_dumps), so it runs on the first major only.
pytestmark = [pytest.mark.pg, pytest.mark.e2e]

PEERS = Path(os.environ.get("MIGGUARD_PEERS_DIR") or Path(__file__).parents[3] / "shared" / "peers" / "diff")
if not PEERS.is_dir():
    pytest.skip(f"the shared peer diff suite is not at {PEERS}", allow_module_level=True)

PAIRS = [
    "migra/constraints",
    "migra/dependencies",
    "migra/dependencies3",
    "migra/generated_added",
    "migra/privileges",
    "migra/rls",
    "migra/seq",
    "migra/triggers2",
]

_BY_NAME = {case.name: case for case in cases(PEERS)}


@pytest.fixture(scope="module")
def server(pg_cluster):
    """The session cluster, as the bench drives a server; the roles the pairs created are dropped after."""
    server = Server(pg_cluster.url(), pg_cluster.binaries.program("pg_dump"))
    yield server
    server.drop_roles()


@pytest.mark.parametrize("name", PAIRS)
def test_peer_pair_round_trips_exactly(server, pg_cluster, name):
    case: Case = _BY_NAME[name]
    outcome = round_trip(server, case, available=pg_cluster.binaries.extensions)
    if outcome.status == "unloadable":
        pytest.skip(f"{name} does not load on PostgreSQL {pg_cluster.binaries.major}: {outcome.detail}")
    assert (outcome.status, outcome.step, outcome.detail) == ("ok", "", "")
