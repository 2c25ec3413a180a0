"""The README's first lines are the two set-up commands, and its rule reference matches the code."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_first_lines_give_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:8]
    commands = [line.split("#")[0].strip() for line in head if line.startswith("make ")]
    assert commands == ["make demo", "make test"]


def test_rule_reference_is_generated_from_the_registry():
    result = subprocess.run([sys.executable, "scripts/rules_doc.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_rule_is_listed():
    """Every id of the registry of finding ids (lint rules, database findings, scan-app findings) has
    exactly one row in the generated reference, and no row names anything else."""
    from migguard.core.finding_ids import finding_kinds

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("<!-- rules:begin"):text.index("<!-- rules:end -->")]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE)
    assert sorted(listed) == [kind.id for kind in finding_kinds()]


def test_ci_runs_exactly_the_readme_test_command():
    lines = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert "make test" in lines
