"""The command line: typer wiring only (options → options model → service call → render → exit code).

`app.py` holds the root command, the registration of every command and `main()`; each command group
has its own module (lint, plan, apply, drift, shadow, audit, rls, query, scan, project, rules) and
`common.py` what they share (options, loading the config, rendering a report, stdin/stdout).
"""

from migguard.cli.app import main

__all__ = ["main"]
