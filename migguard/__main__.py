"""`python -m migguard` and the `migguard` console script run the CLI."""

from migguard.core import collector


def main() -> None:
    """Pause the collector before typer and the command modules load (core/collector.py), then run; a
    one-file lint exits without ever collecting."""
    collector.pause()
    from migguard.cli import main as run

    run()


if __name__ == "__main__":
    main()
