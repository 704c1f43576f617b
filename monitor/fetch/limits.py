"""Politeness: how many requests are in flight overall and per host, and the gap between two
requests to one host, so a cycle that finds fifty new articles on one site does not hammer it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    users: int = 0


class HostLimiter:
    """At most `concurrency` slots overall, `per_host` per host, and starts to one host at least
    `gap` seconds apart. Hosts nobody is using are forgotten, so the table stays small."""

    _SWEEP_AT = 256

    def __init__(self, *, concurrency: int, per_host: int, gap: float) -> None:
        self._overall = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._gap = gap
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str, now: float) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            if len(self._hosts) >= self._SWEEP_AT:
                self._sweep(now)
            state = self._hosts[host] = _Host(asyncio.Semaphore(self._per_host))
        return state

    def _sweep(self, now: float) -> None:
        for name, state in list(self._hosts.items()):
            if state.users == 0 and state.next_start <= now:
                del self._hosts[name]

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one request slot for `host` for the duration of the block."""
        loop = asyncio.get_running_loop()
        state = self._host(host, loop.time())
        state.users += 1
        try:
            async with state.semaphore:
                if self._gap > 0:
                    # The lock orders this host's requests, so each waits for the previous start
                    # plus the gap; the overall slot is taken last, so nobody holds it while asleep.
                    async with state.lock:
                        wait = state.next_start - loop.time()
                        if wait > 0:
                            await asyncio.sleep(wait)
                        await self._overall.acquire()
                        state.next_start = loop.time() + self._gap
                else:
                    await self._overall.acquire()
                try:
                    yield
                finally:
                    self._overall.release()
        finally:
            state.users -= 1
            if state.users == 0 and state.next_start <= loop.time():
                self._hosts.pop(host, None)

    def tracked_hosts(self) -> int:
        """How many hosts the limiter remembers (for tests of its housekeeping)."""
        return len(self._hosts)
