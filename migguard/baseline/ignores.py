"""The baseline's one lint directive: a file-level ignore of exactly the static rules it trips.

The static rules judge changes still to come (a lock a statement would take on a live table, a
tenant table created without its policy in the same file). A baseline is no change: it is
production as it already is, recorded as applied, never run there. Its tenant isolation is judged
where it is real, by the database gates (plan's RLS catalog audit and two-tenant probe run on
production's schema). So that `migguard lint` of the migrations folder (and a CI gate on the
commit that adds the file) does not refuse it, the file carries one `-- migguard:ignore-file`
naming exactly the rules that fire on it, with that reason; a rule added later still reports.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from migguard.core.config import Config
from migguard.lint.context import LintSettings
from migguard.lint.engine import RulePolicy, lint_text

REASON = ("migguard baseline: production's schema as it already is, recorded as applied and never run there; "
          "plan's RLS audit and probe check it on the database")
# Never silenced: a statement PostgreSQL rejects must stay visible.
KEPT = frozenset({"syntax-error"})


def file_ignore(path: Path, directory: Path, text: str, config: Config) -> str | None:
    """`-- migguard:ignore-file <ids> -- <reason>` for the rules that fire on `text`, to be written
    at `path` in the migrations `directory` (the write-path rules judge it there), or None."""
    policy = RulePolicy.build(config.rules)
    settings = replace(LintSettings.from_config(config), write_paths=(str(directory),))
    rules = sorted({finding.rule for finding in lint_text(str(path), text, settings, policy)} - KEPT)
    return f"-- migguard:ignore-file {', '.join(rules)} -- {REASON}\n" if rules else None
