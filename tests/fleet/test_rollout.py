"""`apply --fleet` and `rollback --fleet` through the real CLI on real PostgreSQL: a migration that
fails on one target of the second wave stops the rollout (earlier targets stay applied and
recorded, later ones untouched), --max-failures lets it go on, a re-run resumes, and
`rollback --fleet --last-wave` undoes the last wave only. Production's history and tables are
asserted after each step, not only exit codes.
"""

import json

import pytest

from migguard.cli.app import main

from tests.apply.livekit import SENTINEL, all_output, migguard, query, write
from tests.fleet.rolloutkit import CREATE_ITEMS, fleet_databases, fleet_project, history

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

NAMES = ["a", "b", "d", "e"]  # canary a; then waves of one: wave-1 b, wave-2 d, wave-3 e
# 0001 seeds qty 0 in target d's database only; 0002 then fails there alone. The shadow holds no
# rows, so the plan proves 0002 fine everywhere.
SEED = CREATE_ITEMS + ("INSERT INTO items SELECT 1, CASE WHEN current_database() LIKE '%\\_d' THEN 0 ELSE 5 END;\n")
SCALE = "SET lock_timeout = '2s';\nUPDATE items SET qty = 100 / qty WHERE id > 0;\n"


@pytest.fixture
def fleet(tmp_path, pg_cluster):
    with fleet_databases(pg_cluster, NAMES) as urls:
        yield fleet_project(tmp_path, urls, pg_cluster.url(), canary=("a",), wave_size=1,
                            migrations={"0001_items.sql": SEED}), urls


def qty(url: str) -> list[int]:
    return [r[0] for r in query(url, "SELECT qty FROM items ORDER BY id")]


def test_a_failure_in_the_second_wave_stops_the_rollout_and_a_rerun_resumes(fleet):
    project, urls = fleet
    write(project, "0002_scale.sql", SCALE)
    stopped = migguard(project, "apply", "--fleet", "--confirm-live", "--parallel", "1")
    assert stopped.returncode == 3, stopped.stderr  # the worst target: a database failure
    assert "[canary]" in stopped.stderr and "[wave-2]" in stopped.stderr  # plain progress lines (not a TTY)
    assert "failed: d (failed)" in stopped.stderr and "untouched: e" in stopped.stderr
    # a and b stay applied and recorded; d keeps 0001 (its own transaction) without 0002; e is untouched.
    assert {n: history(u) for n, u in urls.items()} == {
        "a": ["0001", "0002"], "b": ["0001", "0002"], "d": ["0001"], "e": []}
    assert qty(urls["a"]) == [20] and qty(urls["d"]) == [0]
    report = (project.root / ".migguard" / "plans" / "fleet-rollout.md").read_text()
    assert "| d | wave-2 | **failed** | 0001 |" in report and "| e | wave-3 | untouched |" in report
    status = migguard(project, "status", "--fleet", "--format", "json", "--no-drift")
    assert status.returncode == 0, status.stderr  # pending is no failure of status
    lines = {t["name"]: t for t in json.loads(status.stdout)["targets"]}
    assert {n: (t["applied_version"], t["pending"]) for n, t in lines.items()} == {
        "a": ("0002", []), "b": ("0002", []), "d": ("0001", ["0002"]), "e": (None, ["0001", "0002"])}
    assert lines["d"]["last_result"].startswith("apply failed")

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

    # The last wave to apply was d's (wave-2, after wave-3's e): it applied 0001 and 0002 there.
    state = json.loads((project.root / ".migguard" / "plans" / "fleet-rollout.json").read_text())
    assert state["waves"] == ["canary", "wave-1", "wave-3", "wave-2"]
    assert state["targets"]["d"]["applied"] == ["0001", "0002"]
    dry_back = migguard(project, "rollback", "--fleet", "--last-wave", "--allow-destructive")
    assert dry_back.returncode == 0, dry_back.stderr
    assert "would-roll-back" in dry_back.stdout and history(urls["d"]) == ["0001", "0002"]
    back = migguard(project, "rollback", "--fleet", "--last-wave", "--confirm-live", "--no-backup",
                    "--allow-destructive")  # dropping items destroys its rows: the flag says so
    assert back.returncode == 0, back.stdout + back.stderr
    assert {n: history(u) for n, u in urls.items()} == {
        "a": ["0001", "0002"], "b": ["0001", "0002"], "d": [], "e": ["0001", "0002"]}
    assert query(urls["d"], "SELECT to_regclass('public.items')")[0][0] is None
    assert SENTINEL not in all_output(project, stopped, more, resumed, dry_back, back, skip_suffixes=(".dump",))


def test_fleet_flags_are_checked_before_anything_runs(tmp_path, monkeypatch, capsys):
    closed = {name: f"postgresql://u:{SENTINEL}@127.0.0.1:1/{name}" for name in NAMES}  # nothing listens there
    project = fleet_project(tmp_path, closed, "postgresql://u@127.0.0.1:1/shadow", canary=("a",))
    monkeypatch.chdir(project.root)
    for key, value in project.env.items():
        monkeypatch.setenv(key, value)

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit:
            main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and SENTINEL not in out + err
        return exit.value.code, err

    assert run("apply", "--fleet", "--only", "nope") == (2, "migguard: error: --only names unknown target(s): nope\n")
    code, err = run("apply", "--fleet", "--max-failures", "0")
    assert code == 2 and "--max-failures" in err
    code, err = run("rollback", "--fleet")
    assert code == 2 and "--last-wave or --only" in err
    code, err = run("rollback", "--fleet", "--last-wave")
    assert code == 2 and "records no wave" in err
    code, err = run("apply", "--only", "a")
    assert code == 2 and "take effect with --fleet" in err
    assert not (project.root / ".migguard").exists()  # nothing written


def test_apply_fleet_with_a_fleet_plan_applies_each_groups_proof(fleet):
    project, urls = fleet
    planned = migguard(project, "plan", "--fleet")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    fleet_plan = project.root / ".migguard" / "plans" / "fleet-plan.json"
    proofs = json.loads(fleet_plan.read_text())["proofs"]
    assert len(proofs) == 1  # four empty databases: one distinct schema, one proof
    query(urls["b"], "CREATE TABLE stray (id int)")  # drifts after the plan: its proof no longer fits b
    dry = migguard(project, "apply", "--fleet", "--plan", str(fleet_plan), "--max-failures", "4")
    assert dry.returncode == 1 and "4 target(s): 1 refused, 3 would-apply" in dry.stdout, dry.stdout + dry.stderr
    assert all(history(url) == [] for url in urls.values())  # the dry run wrote nothing

    applied = migguard(project, "apply", "--fleet", "--confirm-live", "--plan", str(fleet_plan), "--max-failures", "4")
    assert applied.returncode == 1, applied.stdout + applied.stderr  # b is refused by the fingerprint gate
    assert {n: history(u) for n, u in urls.items()} == {"a": ["0001"], "b": [], "d": ["0001"], "e": ["0001"]}
    assert "b       wave-1  refused" in applied.stdout
