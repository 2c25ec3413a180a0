"""`apply --fleet` and `rollback --fleet` as plain functions: targets in, outcome and report out.

The report is the same one `plan --fleet` and `status --fleet` render (fleet/report.py): a text
table on stdout and Markdown in `<plan_dir>/fleet-rollout.md` (and the CI job summary when
GITHUB_STEP_SUMMARY is set). A rollout that left any target not done raises FleetFailed after
the report is written, with the most serious per-target exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from migguard.core.config import Config
from migguard.core.errors import InputError
from migguard.core.exit_codes import ExitCode
from migguard.fleet.progress import RolloutProgress
from migguard.fleet.report import ResultRow, render_markdown, render_table, summary_line
from migguard.fleet.rollback import FleetRollbackOptions, chosen_targets, run_fleet_rollback
from migguard.fleet.rollout import FleetFailed, RolloutOptions, RolloutOutcome, run_rollout
from migguard.fleet.targets import load_targets
from migguard.report import append_job_summary


def fleet_apply(options: RolloutOptions, config: Config, only: tuple[str, ...], stream: TextIO,
                quiet: bool) -> RolloutOutcome:
    _check_limits(options.parallel, options.max_failures)
    targets = load_targets(config, only)
    return run_rollout(targets, options, config, RolloutProgress(stream, len(targets), quiet=quiet))


def fleet_rollback(options: FleetRollbackOptions, config: Config, only: tuple[str, ...], stream: TextIO,
                   quiet: bool) -> RolloutOutcome:
    _check_limits(options.parallel, options.max_failures)
    targets = chosen_targets(load_targets(config, only), options, only, config)
    return run_fleet_rollback(targets, options, config, RolloutProgress(stream, len(targets), quiet=quiet))


def report(outcome: RolloutOutcome, config: Config, title: str) -> str:
    """The text table for stdout; writes the Markdown report (and job summary). Raises FleetFailed
    when a target failed or was left untouched by a stop."""
    rows = [ResultRow(r.name, r.group, r.status, r.versions, r.message) for r in outcome.results]
    markdown = render_markdown(rows, title + ("" if outcome.live else " (dry run)"))
    if outcome.stopped:
        markdown += f"\n{outcome.stopped}; untouched: {', '.join(outcome.named('untouched')) or 'none'}\n"
    _write_markdown(markdown, Path(config.root) / config.plan_dir / ("fleet-rollout.md" if outcome.live
                                                                      else "fleet-rollout-dry-run.md"))
    text = render_table(("target", "group", "status", "migrations", "details"),
                        [(r.name, r.group, r.status, ", ".join(r.versions) or "-", r.message.splitlines()[0]
                          if r.message else "") for r in outcome.results])
    text += summary_line(rows) + "\n"
    if outcome.exit_code != ExitCode.OK:
        failed = [f"{r.name} ({r.status})" for r in outcome.results if r.failed]
        done = [r.name for r in outcome.results if not r.failed and r.status != "untouched"]
        raise FleetFailed(f"fleet: {outcome.stopped + '; ' if outcome.stopped else ''}failed: {_names(failed)}; "
                          f"done: {_names(done)}; untouched: {_names(outcome.named('untouched'))}",
                          outcome.exit_code, text)
    return text


def _names(names: list[str], shown: int = 10) -> str:
    """Names for the one-line error: the first `shown`, then how many more (the table lists them all)."""
    if not names:
        return "none"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _write_markdown(markdown: str, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown, encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write the fleet report {path}: {error.strerror}") from None
    append_job_summary(markdown)


def _check_limits(parallel: int | None, max_failures: int) -> None:
    if parallel is not None and not 1 <= parallel <= 256:
        raise InputError(f"--parallel takes 1 to 256, not {parallel}")
    if max_failures < 1:
        raise InputError(f"--max-failures takes a number of targets of at least 1, not {max_failures}")
