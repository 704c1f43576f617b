"""The pure parts of fetching: the address rules, header readings, the politeness table."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from monitor import __version__
from monitor.config import FetchSettings
from monitor.fetch.guard import blocked_reason
from monitor.fetch.headers import charset_of, max_age, retry_after, user_agent
from monitor.fetch.limits import HostLimiter

BLOCKED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "169.254.169.254": "link-local",  # cloud metadata service
    "224.0.0.251": "multicast",
    "0.0.0.0": "unspecified",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "IPv4-mapped loopback 127.0.0.1",
    "::ffff:10.1.1.1": "IPv4-mapped private 10.1.1.1",
    "::ffff:169.254.169.254": "IPv4-mapped link-local 169.254.169.254",
    "::127.0.0.1": "IPv4-compatible loopback 127.0.0.1",
    "2002:7f00:1::": "6to4 loopback 127.0.0.1",
    "2002:c0a8:101::1": "6to4 private 192.168.1.1",
    "64:ff9b::a00:1": "NAT64 private 10.0.0.1",
    # Teredo: server 65.54.227.120, client 192.168.0.1 stored inverted (3f57:fffe)
    "2001:0:4136:e378:8000:63bf:3f57:fffe": "Teredo client private 192.168.0.1",
}

PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.1", "2606:4700:4700::1111",
          "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "why"), sorted(BLOCKED.items()))
def test_blocked_addresses(address: str, why: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def _headers(**values: str) -> httpx.Headers:
    return httpx.Headers({k.replace("_", "-"): v for k, v in values.items()})


NOW = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)


def test_retry_after_forms() -> None:
    assert retry_after(_headers(Retry_After="30")) == timedelta(seconds=30)
    assert retry_after(_headers(Retry_After="Tue, 01 Oct 2024 12:02:00 GMT"), now=NOW) == timedelta(minutes=2)
    assert retry_after(_headers(Retry_After="Tue, 01 Oct 2024 11:00:00 GMT"), now=NOW) == timedelta(0)
    assert retry_after(_headers(Retry_After="soon")) is None
    assert retry_after(_headers(Retry_After="-5")) is None
    assert retry_after(_headers()) is None


def test_max_age_from_cache_control_expires_and_age() -> None:
    assert max_age(_headers(Cache_Control="public, max-age=900")) == timedelta(seconds=900)
    assert max_age(_headers(Cache_Control="max-age=900", Age="300")) == timedelta(seconds=600)
    assert max_age(_headers(Cache_Control="max-age=0")) is None
    assert max_age(_headers(Cache_Control="no-cache, max-age=900")) is None
    assert max_age(_headers(Cache_Control="s-maxage=100")) is None
    expires = _headers(Expires="Tue, 01 Oct 2024 12:30:00 GMT", Date="Tue, 01 Oct 2024 12:00:00 GMT")
    assert max_age(expires) == timedelta(minutes=30)
    assert max_age(_headers(Expires="0")) is None
    assert max_age(_headers(Expires="Tue, 01 Oct 2024 12:30:00 GMT"), now=NOW) == timedelta(minutes=30)
    both = _headers(Cache_Control="max-age=60", Expires="Tue, 01 Oct 2024 12:30:00 GMT")
    assert max_age(both, now=NOW) == timedelta(seconds=60)  # RFC 9111 §5.3: max-age wins


def test_charset_of() -> None:
    assert charset_of("text/html; charset=ISO-8859-1") == "iso-8859-1"
    assert charset_of("application/atom+xml;charset='us-ascii'") == "us-ascii"
    assert charset_of('text/html; charset="utf-8"; foo=bar') == "utf-8"
    assert charset_of("text/html") is None
    assert charset_of(None) is None


def test_user_agent_choice() -> None:
    assert user_agent(FetchSettings()) == f"news-monitor/{__version__}"
    assert user_agent(FetchSettings(contact="https://example.org/bot")) == (
        f"news-monitor/{__version__} (+https://example.org/bot)"
    )
    assert user_agent(FetchSettings(user_agent="custom/1"), None) == "custom/1"
    assert user_agent(FetchSettings(user_agent="custom/1"), "explicit/2") == "explicit/2"


def test_limiter_forgets_idle_hosts() -> None:
    async def go() -> int:
        limiter = HostLimiter(concurrency=4, per_host=1, gap=0.0)
        for i in range(10):
            async with limiter.slot(f"h{i}.example"):
                assert limiter.tracked_hosts() == 1
        return limiter.tracked_hosts()

    assert asyncio.run(go()) == 0


def test_limiter_cancelled_waiter_releases_nothing_it_did_not_take() -> None:
    async def go() -> bool:
        limiter = HostLimiter(concurrency=1, per_host=1, gap=0.0)
        async with limiter.slot("a.example"):
            waiter = asyncio.create_task(_enter(limiter, "b.example"))
            await asyncio.sleep(0.01)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        # Both the overall and the host slot are free again: a new request gets in at once.
        async with asyncio.timeout(1):
            await _enter(limiter, "a.example")
        return limiter.tracked_hosts() == 0

    assert asyncio.run(go())


async def _enter(limiter: HostLimiter, host: str) -> None:
    async with limiter.slot(host):
        await asyncio.sleep(0)
