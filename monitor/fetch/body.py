"""Reading a response body with a cap on its decompressed size.

A 200 KB gzip body can inflate to 200 MB. httpx's ``aiter_bytes`` decompresses each network chunk
whole before a counter could look at it, so here the raw (still encoded) bytes are read and inflated
with ``zlib.decompressobj(...).decompress(data, max_length)``: no step produces more than `_STEP`
bytes, and the total is checked after every step, so memory stays near the cap whatever the ratio.
Only encodings that can be bounded this way are advertised in Accept-Encoding (gzip, deflate):
brotli and zstd are not installed, and a server that sends them anyway gets a clear error.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

from monitor.errors import FetchError, ResponseTooLarge

ACCEPT_ENCODING = "gzip, deflate"
_STEP = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def _zlib_header(data: bytes) -> bool:
    """RFC 1950 §2.2: method 8 (deflate) in the low nibble of CMF, and CMF·256+FLG a multiple of 31."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0


class _TooLarge(Exception):
    pass


class _Corrupt(Exception):
    pass


class _Identity:
    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._total = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._total += len(data)
        if self._total > self._cap:
            raise _TooLarge
        if data:
            yield data


class _Inflate:
    """gzip (RFC 1952, several members allowed) or deflate (RFC 1950 zlib, or raw RFC 1951 as some
    servers send) with bounded output per step."""

    def __init__(self, encoding: str, cap: int) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._cap = cap
        self._total = 0
        self._started = False
        self._done = False
        self._inflater = self._new()

    def _new(self, wbits: int | None = None) -> zlib._Decompress:
        if wbits is None:
            wbits = 16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            if not self._gzip and not _zlib_header(data):
                # RFC 9110 §8.4.1.2 says "deflate" is the zlib format, but some servers send raw deflate
                self._inflater = self._new(-zlib.MAX_WBITS)
        pending = data
        while not self._done:
            try:
                out = self._inflater.decompress(pending, _STEP)
            except zlib.error as exc:
                raise _Corrupt(str(exc)) from exc
            pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                rest = self._inflater.unused_data
                if self._gzip and rest.startswith(_GZIP_MAGIC):
                    self._inflater = self._new()
                    pending = rest
                else:
                    self._done = True  # trailing bytes after the stream are ignored, as browsers do
            if out:
                self._total += len(out)
                if self._total > self._cap:
                    raise _TooLarge
                yield out
            if not pending and len(out) < _STEP:
                break


class _Chain:
    """Content-Encoding lists codings in the order they were applied; undo them in reverse."""

    def __init__(self, decoders: list[_Identity | _Inflate]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes, depth: int = 0) -> Iterator[bytes]:
        if depth == len(self._decoders):
            yield data
            return
        for piece in self._decoders[depth].feed(data):
            yield from self.feed(piece, depth + 1)


def _decoder(content_encoding: str | None, cap: int) -> _Chain | str:
    """The decoder chain, or the name of the coding that cannot be undone."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    decoders: list[_Identity | _Inflate] = []
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip", "deflate"):
            decoders.append(_Inflate(coding, cap))
        elif coding != "identity":
            return coding
    return _Chain(decoders or [_Identity(cap)])


async def read_body(response: httpx.Response, *, url: str, max_bytes: int) -> bytes:
    """The decoded body of a streamed `response`, or ResponseTooLarge once it passes `max_bytes`."""
    too_large = f"the body is larger than {max_bytes:,} bytes once decompressed"
    chain = _decoder(response.headers.get("content-encoding"), max_bytes)
    if isinstance(chain, str):
        raise FetchError(url, f"the server used an unsupported content-encoding: {chain}")
    declared = response.headers.get("content-length", "")
    if not response.headers.get("content-encoding") and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(url, too_large)
    body = bytearray()
    try:
        async for raw in response.aiter_raw():
            for piece in chain.feed(raw):
                if len(body) + len(piece) > max_bytes:
                    raise _TooLarge
                body += piece
    except _TooLarge:
        raise ResponseTooLarge(url, too_large) from None
    except _Corrupt as exc:
        coding = response.headers.get("content-encoding")
        raise FetchError(url, f"the body is not valid {coding}: {exc}") from None
    return bytes(body)
