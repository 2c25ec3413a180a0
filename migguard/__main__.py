"""`python -m migguard` and the `migguard` console script run the CLI."""

import gc

from migguard.core import collector


def main() -> None:
    """Pause the collector before typer and the command modules load (core/collector.py), then run; a
    one-file lint exits without ever collecting."""
    collector.pause()
    from migguard.cli import main as run

    try:
        run()
    finally:
        # The process ends here. Python's shutdown collects once more even with the collector off, walking
        # every object still alive (modules, schemas, the report of a large lint: some 30 ms of a 0.4 s
        # warm lint); frozen objects are not walked. Exit handlers and flushing still run as usual.
        gc.freeze()


if __name__ == "__main__":
    main()
