"""monitor.app.settled: a running daemon's start-up objects are set aside from the cyclic collector,
and handed back when it stops."""

from __future__ import annotations

import gc

from monitor.app import settled


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settled_freezes_what_exists_and_gives_it_back() -> None:
    kept = [_Cycle() for _ in range(100)]
    with settled():
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        made_later = _Cycle()
        del made_later
        assert gc.collect() >= 1  # what is made while settled is still collected
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0
    del kept
    assert gc.collect() >= 100  # and what was set aside is collectable again
