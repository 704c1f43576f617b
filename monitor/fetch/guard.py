"""The SSRF guard: refuse to connect to private, loopback and other non-public addresses.

A feed URL comes from a user's file or from a feed's own links, and a redirect can point anywhere,
so a URL check before the request is not enough: the name can resolve to another address by the time
the connection is made (DNS rebinding), and every redirect hop opens a new connection. The check
therefore lives in the network layer. `GuardedBackend` wraps httpcore's network backend: its
``connect_tcp`` resolves the host once, checks every address it got, and connects to a checked
address, never to the name. TLS is unaffected, because httpcore passes the request's host name to
``start_tls`` as the SNI server name and the Host header comes from the URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
from httpcore._utils import is_socket_readable  # what AnyIOStream answers is_readable with

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 shared address space, not covered by is_private
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the last 32 bits are IPv4
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local-use translation prefix
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291 §2.5.5.1, deprecated ::a.b.c.d


def _v4_reason(ip: ipaddress.IPv4Address) -> str | None:
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    return next((why for hit, why in checks if hit), None)


def blocked_reason(ip: IPAddress) -> str | None:
    """Why a connection to `ip` is refused (e.g. "loopback"), or None for a public address.

    IPv6 addresses that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged
    by the IPv4 address they lead to as well, since ::ffff:127.0.0.1 reaches the local host.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_reason(ip)
    embedded: list[tuple[str, ipaddress.IPv4Address]] = []
    if ip.ipv4_mapped is not None:
        embedded.append(("IPv4-mapped", ip.ipv4_mapped))
    elif ip in _IPV4_COMPATIBLE and int(ip) > 1:
        embedded.append(("IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        embedded.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if ip.sixtofour is not None:
        embedded.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        server, client = ip.teredo
        embedded += [("Teredo server", server), ("Teredo client", client)]
    for kind, v4 in embedded:
        why = _v4_reason(v4)
        if why is not None:
            return f"{kind} {why} {v4}"
    if embedded:
        # The IPv4 address inside is public: the prefixes themselves are "reserved" for ipaddress.
        return None
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_site_local, "site-local"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not globally routable"),
    )
    return next((why for hit, why in checks if hit), None)


class AddressRefused(Exception):
    """`host` resolved to `address`, which the guard refuses for `reason` (internal, mapped later)."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        super().__init__(f"{host} resolves to {address} ({reason})")


class Unresolvable(Exception):
    """The host name could not be resolved (internal, mapped to FetchError("DNS lookup failed"))."""

    def __init__(self, host: str, detail: str) -> None:
        self.host = host
        self.detail = detail
        super().__init__(f"DNS lookup failed for {host}: {detail}")


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses of `host`, in the resolver's order, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's default backend, connecting only to resolved addresses that pass `blocked_reason`.

    With ``allow_private=True`` nothing is refused, but the host is still resolved here, so a failed
    lookup reads the same either way.
    """

    def __init__(self, *, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._allow_private = allow_private
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                addresses = await resolve_host(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"DNS lookup for {host} timed out") from exc
        except (OSError, UnicodeError) as exc:
            raise Unresolvable(host, str(exc)) from exc
        if not addresses:
            raise Unresolvable(host, "no address")
        if not self._allow_private:
            for address in addresses:
                why = blocked_reason(ipaddress.ip_address(address.split("%", 1)[0]))
                if why is not None:
                    raise AddressRefused(host, address, why)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            try:
                return _Stream(await self._inner.connect_tcp(
                    address, port, timeout=remaining,
                    local_address=local_address, socket_options=socket_options,
                ))
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(path, path, "Unix sockets are never used for fetching")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Stream(httpcore.AsyncNetworkStream):
    """The backend's stream, with its socket looked up once.

    Before every request, and again as every response ends, httpcore's pool asks each idle
    connection whether its socket became readable (the server closed it). anyio answers by building
    a dict of all the socket's attributes, a getpeername() system call among them: with a dozen
    connections open that was a sixth of the daemon's CPU in a burst of new articles. The socket
    stays the same for the stream's life (TLS wraps the stream, not the socket), so here the question
    costs one poll().
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        wrapped = _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))
        if wrapped._socket is None:
            wrapped._socket = self._socket
        return wrapped

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return is_socket_readable(self._socket)
        if info == "socket" and self._socket is not None:
            return self._socket
        return self._inner.get_extra_info(info)
