"""Alerts printed to a stream (standard output by default): the channel used when none is configured."""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

from monitor.digest import Digest
from monitor.errors import DeliveryError
from monitor.render import render_console, render_digest_console
from monitor.types import Alert


class ConsoleChannel:
    """Writes one block per alert and flushes, so a pipe or the journal sees it at once."""

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self._stream = stream

    async def send(self, alert: Alert) -> None:
        await self._write(render_console(alert))

    async def send_digest(self, digest: Digest) -> None:
        await self._write(render_digest_console(digest.title, digest.alerts))

    async def _write(self, text: str) -> None:
        # sys.stdout is looked up at send time, not import time, so redirection applies.
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            try:
                stream.write(text)
            except UnicodeEncodeError:
                # A terminal in an ASCII locale: show "Orb?n" rather than lose the alert.
                encoding = getattr(stream, "encoding", None) or "ascii"
                stream.write(text.encode(encoding, "replace").decode(encoding))
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe, a closed file
            raise DeliveryError(self.name, f"cannot write to the console: {exc}") from exc

    async def aclose(self) -> None:
        """The stream belongs to the caller: it is flushed but not closed."""
        stream = self._stream if self._stream is not None else sys.stdout
        with contextlib.suppress(OSError, ValueError):
            stream.flush()

    def __repr__(self) -> str:
        return f"ConsoleChannel({self.name!r})"
