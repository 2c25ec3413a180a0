"""cli/app.py builds a command only when it runs or help lists it (COMMANDS): every name is still
listed, in its order, and running one command loads the module of that command alone."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from migguard.cli.app import COMMANDS
from tests.clirun import run_cli


def test_every_command_resolves_and_help_lists_them_in_order(tmp_path):
    for name, target in COMMANDS.items():
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(f"migguard.cli.{module}"), attribute)
        assert isinstance(command, typer.Typer) or callable(command), name
    listed = run_cli(["--help"], cwd=tmp_path).stdout.split("Commands:", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  ") and line.split()] == list(COMMANDS)


def test_one_command_loads_only_its_own_module(tmp_path):
    code = ("import sys\nfrom migguard.cli.app import main\ntry:\n    main(['explain', 'ban-drop-column'])\n"
            "except SystemExit as done:\n    assert done.code == 0, done.code\n"
            "print(sorted(m for m in sys.modules if m.startswith('migguard.cli.')))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['migguard.cli.app', 'migguard.cli.common', 'migguard.cli.rules']"
