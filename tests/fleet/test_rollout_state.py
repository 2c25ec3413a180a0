"""The rollout state file and the progress display: pure, no database."""

import io
import json

import pytest

from migguard.core.errors import InputError
from migguard.fleet.progress import RolloutProgress
from migguard.fleet.state import FILE_NAME, RolloutState


def test_the_last_wave_is_the_group_that_applied_last_and_a_partial_wave_adds_up(tmp_path):
    state = RolloutState.load(tmp_path)
    state.record("a", "canary", "applied", None, ["0001"], failed=False)
    state.record("b", "wave-1", "failed", "0001", ["0002"], failed=True)  # 0002 applied, 0003 failed
    state.record("c", "wave-1", "untouched", None, [], failed=False)
    state.save()
    again = RolloutState.load(tmp_path)
    assert again.last_wave() == ("wave-1", ["b"])
    again.record("b", "wave-1", "applied", "0002", ["0003"], failed=False)  # the re-run finishes the wave
    assert (again.targets["b"].before, again.targets["b"].applied) == ("0001", ["0002", "0003"])
    again.record("a", "canary", "up-to-date", None, [], failed=False)  # nothing new: a keeps its entry
    assert again.targets["a"].applied == ["0001"]
    again.rolled_back("b")
    assert again.last_wave() == ("canary", ["a"])


def test_a_new_rollout_replaces_what_an_earlier_one_applied(tmp_path):
    state = RolloutState.load(tmp_path)
    state.record("d", "wave-2", "applied", None, ["0001"], failed=False)
    state.record("d", "wave-2", "failed", None, [], failed=True)  # the next rollout failed before applying
    assert state.last_wave() is None
    state.record("d", "wave-2", "applied", "0001", ["0002"], failed=False)
    assert (state.targets["d"].before, state.targets["d"].applied) == ("0001", ["0002"])


def test_a_broken_state_file_is_an_input_error_naming_the_way_out(tmp_path):
    (tmp_path / FILE_NAME).write_text("{not json")
    with pytest.raises(InputError, match="remove it"):
        RolloutState.load(tmp_path)
    (tmp_path / FILE_NAME).write_text(json.dumps({"targets": {}}))
    with pytest.raises(InputError):
        RolloutState.load(tmp_path)


def test_progress_writes_plain_lines_off_a_terminal_and_nothing_when_quiet():
    ticks = iter([0.0, 65.0, 66.0, 67.0])
    stream = io.StringIO()
    progress = RolloutProgress(stream, 3, clock=lambda: next(ticks))
    progress.wave("canary", 1)
    progress.result("a", "applied", failed=False)
    progress.result("b", "failed", failed=True, message="division by zero\nmore")
    assert stream.getvalue().splitlines() == [
        "migguard: fleet: canary: 1 target(s) ([canary] 0 done, 0 failed, 3 remaining of 3, 01:05 elapsed)",
        "migguard: fleet: a: applied ([canary] 1 done, 0 failed, 2 remaining of 3, 01:06 elapsed)",
        "migguard: fleet: b: failed: division by zero ([canary] 1 done, 1 failed, 1 remaining of 3, 01:07 elapsed)",
    ]
    quiet = io.StringIO()
    silent = RolloutProgress(quiet, 1, quiet=True)
    silent.wave("canary", 1)
    silent.result("a", "applied", failed=False)
    assert quiet.getvalue() == ""


def test_progress_redraws_one_status_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = RolloutProgress(stream, 2, clock=lambda: 0.0)
    progress.wave("wave-1", 2)
    progress.result("a", "applied", failed=False)
    progress.finish()
    assert stream.getvalue() == ("\r\x1b[2Kmigguard: fleet: wave-1: 2 target(s)\n[wave-1] 0 done, 0 failed, 2 remaining "
                                 "of 2, 00:00 elapsed\r\x1b[2Kmigguard: fleet: a: applied\n[wave-1] 1 done, 0 failed, "
                                 "1 remaining of 2, 00:00 elapsed\n")


def _targets(*spec):
    from migguard.fleet.targets import Target

    return [Target(name, "postgresql://u@/db", None, group) for name, group in spec]


def test_run_groups_stops_starting_targets_after_max_failures_and_names_the_untouched():
    from migguard.core.exit_codes import ExitCode
    from migguard.fleet.rollout import TargetResult, run_groups

    targets = _targets(("a", "canary"), ("b", "wave-1"), ("c", "wave-1"), ("d", "wave-2"))
    ran = []

    def run(target):
        ran.append(target.name)
        if target.name == "b":
            return TargetResult(target.name, target.group, "failed", message="boom", exit_code=ExitCode.DATABASE)
        if target.name == "c":
            raise RuntimeError("a defect")
        return TargetResult(target.name, target.group, "applied", ("0001",))

    stopped = run_groups(targets, run, 1, 1, RolloutProgress(None, 4), True)
    assert ran == ["a", "b"] and stopped.named("untouched") == ["c", "d"] and stopped.exit_code == ExitCode.DATABASE
    ran.clear()
    going_on = run_groups(targets, run, 1, 3, RolloutProgress(None, 4), True)
    assert ran == ["a", "b", "c", "d"] and going_on.stopped is None
    assert going_on.exit_code == ExitCode.INTERNAL  # the most serious outcome: c's defect, reported per target
    assert [r.status for r in going_on.results] == ["applied", "failed", "failed", "applied"]



def test_a_fleet_plan_maps_each_target_to_its_groups_proof_and_a_bad_one_is_an_input_error(tmp_path):
    from migguard.fleet.rollout import PlannedTarget, load_fleet_plan

    (tmp_path / "fleet-plan.json").write_text(json.dumps({
        "proofs": [{"id": "p1", "directory": ".migguard/plans/db-a/20261204-abc"}, {"id": "p2", "directory": None}],
        "targets": [{"name": "a", "status": "ok", "reason": "", "proof": "p1"},
                    {"name": "b", "status": "drifted", "reason": "extra table", "proof": "p2"},
                    {"name": "c", "status": "unreachable", "reason": "DB_C is not set", "proof": None}]}))
    assert load_fleet_plan(tmp_path, tmp_path) == {
        "a": PlannedTarget("ok", "", tmp_path / ".migguard/plans/db-a/20261204-abc"),
        "b": PlannedTarget("drifted", "extra table", None), "c": PlannedTarget("unreachable", "DB_C is not set", None)}
    (tmp_path / "broken.json").write_text('{"targets": []}')
    with pytest.raises(InputError, match="not a fleet plan"):
        load_fleet_plan(tmp_path / "broken.json", tmp_path)
    with pytest.raises(InputError, match="cannot read the fleet plan"):
        load_fleet_plan(tmp_path / "missing.json", tmp_path)


def test_a_target_without_its_key_or_down_is_unreachable_with_its_reason_and_no_url():
    from migguard.apply.command import ApplyOptions
    from migguard.core.config import Config
    from migguard.core.exit_codes import ExitCode
    from migguard.fleet.rollout import _apply_target
    from migguard.fleet.targets import Target

    unset = _apply_target(Target("x", "", None, "wave-1", unreachable="DB_X is not set"), ApplyOptions(), Config(),
                          ["0001"])
    assert (unset.status, unset.message, unset.exit_code) == ("unreachable", "unreachable: DB_X is not set",
                                                              ExitCode.DATABASE)
    down = _apply_target(Target("y", "postgresql://u:S3cret@127.0.0.1:1/db", None, "wave-1"), ApplyOptions(),
                         Config(), ["0001"])
    assert (down.status, down.exit_code) == ("unreachable", ExitCode.DATABASE)
    assert "cannot connect" in down.message and "S3cret" not in down.message
