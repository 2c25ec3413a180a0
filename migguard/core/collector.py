"""No garbage collection while a command starts up.

A cold one-file `migguard lint` (a pre-commit hook runs one per commit) spent about a tenth of its
time in Python's cyclic collector, walking again and again the classes, functions and schemas its
imports had just made: objects that live until the process exits. The process entry
(`migguard.__main__`) pauses the collector; the command resumes it when its own work starts (lint
before its second file, once the rules and parsers are loaded; every other command before it builds
its options), so a long run collects garbage as usual, while a one-file lint never collects. At
exit, Python's shutdown collects once more even with the collector off, walking every object still
alive: the process entry freezes them first (gc.freeze), which took another fifth off a one-file lint.
`cli.app.main` called in a process (the test suite's run_cli) pauses it too and leaves it as it
found it.

Building a schema model is the same case at run time: reading a 1,000-table schema makes some
100,000 objects (rows, dicts, pydantic models) that all stay alive, and each allocation burst let
the collector walk the growing heap again — a quarter of the read's CPU, for objects that hold no
reference cycles. Inside `no_collection()` (introspection, the diff) the collector is off; it is
switched on again when the last concurrent user leaves (the two sides of a diff are read on two
threads), unless it was off already.

Switched on again, the collector would at once walk everything made while it was off: the young
generation holds the whole model, and a walk of 100,000 objects takes tens of milliseconds to
learn that they all live on. `_promoted_to_oldest` moves them straight to the oldest generation
(a freeze and unfreeze, two list splices), where a full collection still finds any cycle among
them. Objects moved there that way do not count towards Python's own trigger of a full
collection, so this module keeps CPython's rule for them itself: a full collection when the objects
promoted since the last one (as `gc.get_count()` counts the young ones: made and not freed)
outnumber a quarter of those the last one left alive (the first promotion measures the heap
instead), and at least PROMOTIONS_PER_FULL_COLLECTION promotions were made since. Cyclic garbage
cannot pile up beyond that, a long run whose heap barely grows (a plan reads the clone and diffs
after every migration, each keeping a few thousand objects in a heap of hundreds of thousands)
walks its heap a few times, and a short command never pays for one: `migguard diff` promotes three
times (start-up, the two reads, the diff), and its reads alone outgrow the start-up heap fourfold.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_paused = False
_lock = threading.Lock()
_users = 0
_was_enabled = False


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
        _promoted_to_oldest()
        gc.enable()


# A full collection once the promoted objects outnumber this share of those alive after the last one,
# and this many promotions were made since.
FULL_COLLECTION_GROWTH = 0.25
PROMOTIONS_PER_FULL_COLLECTION = 8
_promoted = 0  # objects promoted since the last full collection (or the first measure)
_promotions = 0  # promotions since then
_alive: int | None = None  # objects alive after the last full collection (None: not measured yet)


def _promoted_to_oldest() -> None:
    """Every tracked object moved to the oldest generation without a walk, or a full collection
    once enough were (see the module docstring); nothing, if anyone else keeps objects frozen (a
    pre-fork server, the test runner): an unfreeze here would undo theirs."""
    global _promoted, _promotions, _alive
    if gc.get_freeze_count() != 0:
        return
    _promoted += gc.get_count()[0]  # the young generation: what was made since the last collection or promotion
    _promotions += 1
    if _alive is not None and (_promoted <= _alive * FULL_COLLECTION_GROWTH
                               or _promotions < PROMOTIONS_PER_FULL_COLLECTION):
        gc.freeze()
        gc.unfreeze()
        return
    if _alive is not None:
        gc.collect()
    gc.freeze()  # everything alive, moved at once: counted while it is there (a list walk, no collection)
    _alive = gc.get_freeze_count()
    gc.unfreeze()
    _promoted = _promotions = 0


@contextmanager
def no_collection() -> Iterator[None]:
    """The cyclic collector off for the block (reference counting frees memory as always)."""
    global _users, _was_enabled
    with _lock:
        if _users == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _was_enabled:
                _promoted_to_oldest()
                gc.enable()
