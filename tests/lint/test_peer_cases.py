"""Rule fidelity on other linters' cases: `../shared/peers/lint` (see its SOURCES.md) holds 79 migrations
from the tests and docs of atlas, strong_migrations, django-pg-zero-downtime-migrations and eugene, each
with the verdict a careful gate gives on its first line (`-- expect: refuse|pass; …`). Each file is
linted as `migguard lint FILE` lints it (every rule, without --allow-destructive), and the gate's verdict
must be the expected one.

Every case sets `statement_timeout = '1h'` (the peers' recommendation), above migguard's default ceiling
of 15min; the cases test their named hazard, not that ceiling, so they are linted with
`max_statement_timeout = "1h"`, as a project that runs such migrations configures it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migguard.lint.context import LintSettings
from migguard.lint.engine import RulePolicy, gate_passes, lint_text

# `../shared` beside the checkout (or beside the folder of a git worktree of it).
_ROOT = Path(__file__).resolve().parents[2]
PEERS = next((folder / "shared" / "peers" / "lint" for folder in _ROOT.parents[:2]
              if (folder / "shared" / "peers" / "lint").is_dir()), _ROOT.parent / "shared" / "peers" / "lint")

if not PEERS.is_dir():
    pytest.skip(f"peer lint cases not found at {PEERS} (they live outside the repository)", allow_module_level=True)

_EXPECT = re.compile(r"\A-- expect: (refuse|pass);")
SETTINGS = LintSettings(max_statement_timeout="1h")
POLICY = RulePolicy.build()

# Where migguard deliberately gives another verdict than the peer, and why. Strict: a case that starts
# agreeing fails here until it is taken off this list.
DISAGREE = {
    # migguard runs a file with CONCURRENTLY statement by statement, so a failure half-way leaves the earlier
    # statements applied while the migration is not recorded: ban-mixing-concurrently wants them in separate
    # files. The peers run such migrations outside a transaction and retry by hand.
    "dz_add_foreign_key_column_safe.sql": "ban-mixing-concurrently (policy)",
    "dz_add_unique_column_safe.sql": "ban-mixing-concurrently (policy)",
    "sm_add_reference_concurrently.sql": "ban-mixing-concurrently (policy)",
    "sm_add_unique_constraint_using_index.sql": "ban-mixing-concurrently (policy)",
    # Reported as warnings today: require-lock-timeout (migguard apply sets lock_timeout for every migration
    # itself) and prefer-jsonb.
    "eugene_e9_add_column_without_lock_timeout.sql": "require-lock-timeout is a warning",
    "sm_add_json_column.sql": "prefer-jsonb is a warning",
}


def _cases() -> list:
    cases = []
    for path in sorted(PEERS.glob("*.sql")):
        mark = [pytest.mark.xfail(strict=True, reason=DISAGREE[path.name])] if path.name in DISAGREE else []
        cases.append(pytest.param(path, id=path.stem, marks=mark))
    return cases


def test_the_suite_is_complete():
    names = {path.name for path in PEERS.glob("*.sql")}
    assert len(names) == 79
    assert set(DISAGREE) <= names


@pytest.mark.parametrize("path", _cases())
def test_peer_case_verdict(path: Path):
    text = path.read_text(encoding="utf-8")
    expected = _EXPECT.match(text)
    assert expected, f"{path.name}: first line must say `-- expect: refuse|pass;`"
    findings = lint_text(str(path), text, SETTINGS, POLICY)
    verdict = "pass" if gate_passes(findings, strict=False) else "refuse"
    errors = sorted({f.rule for f in findings if f.severity.value == "error"})
    assert verdict == expected[1], f"{path.name}: expected {expected[1]}, migguard says {verdict} (errors: {errors})"
