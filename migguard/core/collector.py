"""No garbage collection while a command starts up.

A cold one-file `migguard lint` (a pre-commit hook runs one per commit) spent about a tenth of its
time in Python's cyclic collector, walking again and again the classes, functions and schemas its
imports had just made: objects that live until the process exits. The process entry
(`migguard.__main__`) pauses the collector; the command resumes it when its own work starts (lint
before its second file, once the rules and parsers are loaded; every other command before it builds
its options), so a long run collects garbage as usual, while a one-file lint never collects: not
even at exit, where an enabled collector walks every object once more. `cli.app.main` called in a
process (the test suite's run_cli) pauses it too and leaves it as it found it.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> bool:
    """Stop automatic collection, if it runs, until `resume`. True when this call stopped it."""
    global _paused
    if not gc.isenabled():
        return False
    gc.disable()
    _paused = True
    return True


def resume() -> None:
    """Collect automatically again, if `pause` stopped it; otherwise nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
