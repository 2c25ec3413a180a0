"""No garbage collection while a command starts up.

A cold one-file `migguard lint` (a pre-commit hook runs one per commit) spent about a tenth of its
time in Python's cyclic collector, walking again and again the classes, functions and schemas its
imports had just made: objects that live until the process exits. `cli.app.main` pauses the
collector; the command resumes it when its own work starts (lint after its first file, when the
rules and parsers are loaded; every other command before it builds its options), so a long run
collects garbage as usual. Outside `main` (the library, the test suite) nothing is paused.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collection, if it runs, until `resume`."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Collect automatically again, if `pause` stopped it; otherwise nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
