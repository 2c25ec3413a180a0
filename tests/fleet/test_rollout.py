"""`apply --fleet` and `rollback --fleet` through the real CLI on real PostgreSQL: a migration that
fails on one target of the second wave stops the rollout (earlier targets stay applied and
recorded, later ones untouched), --max-failures lets it go on, a re-run resumes, and
`rollback --fleet --last-wave` undoes the last wave only. Production's history and tables are
asserted after each step, not only exit codes.
"""

import json

import pytest

from tests.apply.livekit import SENTINEL, all_output, migguard, query, write
from tests.fleet.rolloutkit import fleet_databases, fleet_project, history

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

NAMES = ["a", "b", "d", "e"]  # canary a; then waves of one: wave-1 b, wave-2 d, wave-3 e
# Fails on a target holding a row with qty = 0; the shadow has no rows, so the plan proves it fine.
SCALE = "SET lock_timeout = '2s';\nUPDATE items SET qty = 100 / qty WHERE id > 0;\n"


@pytest.fixture
def fleet(tmp_path, pg_cluster):
    with fleet_databases(pg_cluster, NAMES) as urls:
        yield fleet_project(tmp_path, urls, pg_cluster.url(), canary=("a",), wave_size=1), urls


def qty(url: str) -> list[int]:
    return [r[0] for r in query(url, "SELECT qty FROM items ORDER BY id")]


def test_a_failure_in_the_second_wave_stops_the_rollout_and_a_rerun_resumes(fleet):
    project, urls = fleet
    dry = migguard(project, "apply", "--fleet")
    assert dry.returncode == 0, dry.stderr
    assert all(history(url) == [] for url in urls.values())  # the dry run wrote nothing
    assert "4 target(s): 4 would-apply" in dry.stdout

    first = migguard(project, "apply", "--fleet", "--confirm-live")
    assert first.returncode == 0, first.stderr
    assert "[canary]" in first.stderr and "[wave-3]" in first.stderr  # plain progress lines (not a TTY)
    assert all(history(url) == ["0001"] for url in urls.values())
    for name, url in urls.items():
        query(url, "INSERT INTO items VALUES (1, %s)", (0 if name == "d" else 5,))

    write(project, "0002_scale.sql", SCALE)
    stopped = migguard(project, "apply", "--fleet", "--confirm-live", "--parallel", "1")
    assert stopped.returncode == 3, stopped.stderr  # the worst target: a database failure
    assert "failed: d (failed)" in stopped.stderr and "untouched: e" in stopped.stderr
    assert {n: history(u) for n, u in urls.items()} == {
        "a": ["0001", "0002"], "b": ["0001", "0002"], "d": ["0001"], "e": ["0001"]}
    assert qty(urls["d"]) == [0] and qty(urls["e"]) == [5] and qty(urls["a"]) == [20]
    report = (project.root / ".migguard" / "plans" / "fleet-rollout.md").read_text()
    assert "| d | wave-2 | **failed** |" in report and "| e | wave-3 | untouched |" in report

    # --max-failures 2: d fails again, e goes on; a and b are up to date and not applied again.
    more = migguard(project, "apply", "--fleet", "--confirm-live", "--parallel", "1", "--max-failures", "2")
    assert more.returncode == 3, more.stderr
    assert history(urls["e"]) == ["0001", "0002"] and history(urls["d"]) == ["0001"]
    assert qty(urls["a"]) == [20] and qty(urls["e"]) == [20]

    query(urls["d"], "UPDATE items SET qty = 4")
    resumed = migguard(project, "apply", "--fleet", "--confirm-live")
    assert resumed.returncode == 0, resumed.stderr
    assert all(history(url) == ["0001", "0002"] for url in urls.values())
    assert [qty(urls[n]) for n in NAMES] == [[20], [20], [25], [20]]  # each target scaled once
    assert "4 target(s): 1 applied, 3 up-to-date" in resumed.stdout

    state = json.loads((project.root / ".migguard" / "plans" / "fleet-rollout.json").read_text())
    assert state["waves"] == ["canary", "wave-1", "wave-3", "wave-2"]  # d's wave applied last
    dry_back = migguard(project, "rollback", "--fleet", "--last-wave", "--allow-destructive")
    assert dry_back.returncode == 0, dry_back.stderr
    assert "would-roll-back" in dry_back.stdout and history(urls["d"]) == ["0001", "0002"]
    back = migguard(project, "rollback", "--fleet", "--last-wave", "--confirm-live", "--no-backup",
                    "--allow-destructive")  # reversing the UPDATE cannot give the old values back
    assert back.returncode == 0, back.stdout + back.stderr
    assert {n: history(u) for n, u in urls.items()} == {
        "a": ["0001", "0002"], "b": ["0001", "0002"], "d": ["0001"], "e": ["0001", "0002"]}
    assert SENTINEL not in all_output(project, dry, first, stopped, more, resumed, dry_back, back,
                                      skip_suffixes=(".dump",))


def test_fleet_flags_are_checked_before_anything_runs(fleet):
    project, urls = fleet
    unknown = migguard(project, "apply", "--fleet", "--only", "nope")
    assert unknown.returncode == 2 and "unknown target(s): nope" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    zero = migguard(project, "apply", "--fleet", "--max-failures", "0")
    assert zero.returncode == 2 and "--max-failures" in zero.stderr
    neither = migguard(project, "rollback", "--fleet")
    assert neither.returncode == 2 and "--last-wave or --only" in neither.stderr
    assert all(history(url) == [] for url in urls.values())


def test_apply_fleet_with_a_fleet_plan_applies_each_groups_proof(fleet):
    project, urls = fleet
    planned = migguard(project, "plan", "--fleet")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    fleet_plan = project.root / ".migguard" / "plans" / "fleet-plan.json"
    proofs = json.loads(fleet_plan.read_text())["proofs"]
    assert len(proofs) == 1  # four empty databases: one distinct schema, one proof
    query(urls["b"], "CREATE TABLE stray (id int)")  # drifts after the plan: its proof no longer fits b

    applied = migguard(project, "apply", "--fleet", "--confirm-live", "--plan", str(fleet_plan), "--max-failures", "4")
    assert applied.returncode == 1, applied.stdout + applied.stderr  # b is refused by the fingerprint gate
    assert {n: history(u) for n, u in urls.items()} == {"a": ["0001"], "b": [], "d": ["0001"], "e": ["0001"]}
    assert "b       wave-1  refused" in applied.stdout
