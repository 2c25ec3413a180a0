"""core/collector.no_collection: the collector is off inside, on again after the last concurrent user, and a
caller's own `gc.disable()` is kept."""

import gc
import threading

import pytest

from migguard.core.collector import no_collection


@pytest.fixture(autouse=True)
def collector_restored():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_off_inside_on_after():
    gc.enable()
    with no_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_on_again_only_when_the_last_of_two_threads_leaves():
    gc.enable()
    inside, release_first = threading.Barrier(2), threading.Event()
    seen = {}

    def first():
        with no_collection():
            inside.wait()
            release_first.wait()
        seen["after first left"] = gc.isenabled()

    thread = threading.Thread(target=first)
    thread.start()
    with no_collection():
        inside.wait()
        release_first.set()
        thread.join()
        assert seen["after first left"] is False  # this thread is still building
    assert gc.isenabled()


def test_an_error_inside_still_restores_the_collector():
    gc.enable()
    with pytest.raises(ValueError), no_collection():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_callers_disabled_collector_stays_disabled():
    gc.disable()
    with no_collection():
        pass
    assert not gc.isenabled()


class _Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_what_was_made_inside_is_promoted_not_walked_and_a_full_collection_still_frees_its_cycles():
    import weakref

    gc.enable()
    with no_collection():
        kept = [{"row": i} for i in range(1000)]
        cycle = _Node()
        gone = weakref.ref(cycle)
        del cycle
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert not any(id(row) in young for row in kept)  # the next young collection does not walk them
    assert gc.get_count()[0] < 100
    assert gone() is not None  # no collection ran at the exit
    gc.collect()
    assert gone() is None


def test_nothing_is_promoted_while_someone_else_keeps_objects_frozen():
    gc.enable()
    gc.freeze()
    try:
        with no_collection():
            made = [{"row": i} for i in range(10)]
        assert gc.get_freeze_count() > 0  # theirs stay frozen: no unfreeze here
        assert any(o is made for o in gc.get_objects(generation=0))
    finally:
        gc.unfreeze()


def test_a_long_run_still_collects_its_cycles_in_full_once_the_promoted_outgrow_a_quarter_of_the_heap(monkeypatch):
    import weakref

    from migguard.core import collector

    gc.enable()
    monkeypatch.setattr(collector, "_alive", 4000)  # as if the last full collection had left 4,000 objects
    monkeypatch.setattr(collector, "_promoted", 0)
    monkeypatch.setattr(collector, "_promotions", 0)
    gone, kept = [], []
    exits = collector.PROMOTIONS_PER_FULL_COLLECTION
    for _ in range(exits):  # 400 objects promoted each time: over a quarter of 4,000 by the third exit
        with no_collection():
            kept += [{"row": i} for i in range(400)]  # made, not freed: counted as promoted
            cycle = _Node()
            gone.append(weakref.ref(cycle))
            del cycle
        if len(gone) < exits:
            assert gone[-1]() is not None  # promoted, not yet collected: too few promotions yet
    assert all(ref() is None for ref in gone)  # the last exit collected in full, promoted cycles included
    assert collector._promoted == 0 and collector._alive > 4000  # the heap measured again after it


def test_a_long_run_whose_heap_barely_grows_does_not_collect_in_full(monkeypatch):
    import weakref

    from migguard.core import collector

    gc.enable()
    monkeypatch.setattr(collector, "_alive", 10_000_000)
    monkeypatch.setattr(collector, "_promoted", 0)
    monkeypatch.setattr(collector, "_promotions", 0)
    gone = []
    for _ in range(40):  # more than the sixteen promotions that used to trigger one
        with no_collection():
            cycle = _Node()
            gone.append(weakref.ref(cycle))
            del cycle
    assert all(ref() is not None for ref in gone)  # promoted, never walked
    assert 40 <= collector._promoted < 10_000
    gc.collect()
    assert all(ref() is None for ref in gone)


def test_the_first_promotion_measures_the_heap_instead_of_collecting(monkeypatch):
    import weakref

    from migguard.core import collector

    gc.enable()
    monkeypatch.setattr(collector, "_alive", None)
    with no_collection():
        cycle = _Node()
        gone = weakref.ref(cycle)
        del cycle
    assert gone() is not None  # a one-shot command never pays for a full collection
    assert collector._alive > 1000 and collector._promoted == 0


def test_a_short_command_whose_reads_outgrow_the_start_up_heap_does_not_collect_in_full(monkeypatch):
    """`migguard diff`: the start-up measures the heap, then two models are read (many times the start-up's
    objects) and diffed: three promotions, no full collection."""
    import weakref

    from migguard.core import collector

    gc.enable()
    monkeypatch.setattr(collector, "_alive", None)
    monkeypatch.setattr(collector, "_promoted", 0)
    monkeypatch.setattr(collector, "_promotions", 0)
    gone, kept = [], []
    for size in (10, 50_000, 5_000):  # start-up, the reads, the diff
        with no_collection():
            kept += [{"row": i} for i in range(size)]
            cycle = _Node()
            gone.append(weakref.ref(cycle))
            del cycle
    assert all(ref() is not None for ref in gone)  # promoted, never walked
    assert collector._promotions == 2 and collector._promoted >= 55_000
