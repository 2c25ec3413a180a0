"""The layering of the packages holds (issue 15): the import-linter contracts in pyproject.toml.

The contracts: capabilities import only what sits below them (cli > apply > plan > report > rls |
drift | query | scan | project > lint | pg > schema | sql > core; inside cli: app > the command
groups, independent of each other > common), every top-level module is placed in a layer, no import
circle between sibling modules or packages, and no database driver in the pure parts. The checker is
proven on a copy of the package with a planted breach, so a contract that no longer checks anything
fails here too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LINT_IMPORTS = ("import sys; from importlinter.cli import lint_imports; "
                "sys.exit(lint_imports(no_cache=True, no_logo=True))")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with the contracts of root/pyproject.toml, on the package in root."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-c", LINT_IMPORTS], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


def test_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (module, the line planted at its end, what the report must say)
BREACHES = [
    # an upward import: the core reaching into the CLI
    ("migguard/core/redact.py", "import migguard.cli\n", "migguard.core is not allowed to import migguard.cli"),
    # a capability reaching into a sibling of its own layer
    ("migguard/query/check.py", "from migguard.scan import scanner\n",
     "migguard.query is not allowed to import migguard.scan"),
    # a CLI command group reaching into another instead of cli/common.py
    ("migguard/cli/lint.py", "from migguard.cli import plan\n", "migguard.cli.lint is not allowed to import migguard.cli.plan"),
    # a circle inside a package (the one rls/probe.py <-> rls/audit.py had)
    ("migguard/rls/audit.py", "from migguard.rls.probe import probe\n", "No cycles are allowed in migguard.rls"),
    # a new top-level module no layer names
    ("migguard/durations.py", '"""Unplaced."""\n', "migguard.durations"),
    # the database driver in a pure part
    ("migguard/schema/diff.py", "import psycopg\n", "migguard.schema.diff -> psycopg"),
]


def test_every_planted_breach_breaks_the_build(tmp_path):
    """All six planted in one copy and checked in one run (import-linter builds the whole import
    graph each time): each contract must report its own breach. Each expected line names its own
    breach, not a consequence of another (checked once by leaving each breach out in turn)."""
    shutil.copytree(ROOT / "migguard", tmp_path / "migguard", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, planted, _ in BREACHES:
        target = tmp_path / module
        target.write_text((target.read_text(encoding="utf-8") if target.exists() else "") + planted, encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert [expected for _, _, expected in BREACHES if expected not in result.stdout] == [], result.stdout
