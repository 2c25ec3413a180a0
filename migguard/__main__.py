"""`python -m migguard` runs the CLI."""

from migguard.cli import main

main()
