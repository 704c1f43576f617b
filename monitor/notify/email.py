"""Email over SMTP: one multipart/alternative message (plain text and HTML) per alert.

smtplib blocks, so each send runs in a worker thread with the configured socket timeout. A new
connection per alert keeps the channel free of state a dropped connection could corrupt; alerts
are few. SMTP reply codes decide retry or not (RFC 5321 §4.2.1): 4yz is transient, 5yz permanent.

The Message-ID derives from the alert's delivery key, so a retried delivery carries the same id
and a receiving client or archive can tell a duplicate apart. A story update replies to its first
alert (In-Reply-To and References, RFC 5322 §3.6.4, with that alert's Message-ID; subject "Re: "
and the alert's), so mail clients show it in the alert's conversation.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from monitor.digest import Digest
from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.notify.base import scrub
from monitor.notify.settings import EmailSettings
from monitor.render import EmailContent, render_digest_email, render_email
from monitor.render_updates import render_update_email
from monitor.types import Alert, StoryUpdate

log = logging.getLogger(__name__)

MESSAGE_ID_DOMAIN = "news-monitor"
WATCHLIST_HEADER = "X-News-Monitor-Watchlist"
DELIVERY_HEADER = "X-News-Monitor-Delivery"


def message_id(delivery_key: str) -> str:
    """`<sha256(key)[:32]@news-monitor>`, the same for every retry of one delivery."""
    if not delivery_key:
        return make_msgid(domain=MESSAGE_ID_DOMAIN)
    digest = hashlib.sha256(delivery_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def build_message(alert: Alert, settings: EmailSettings, *, now: datetime | None = None) -> EmailMessage:
    """The message for one alert; non-ASCII headers are RFC 2047-encoded by the email policy."""
    if alert.update is not None:
        content = render_update_email(alert, subject_prefix=settings.subject_prefix)
        msg = _message(content, settings, alert.delivery_key, [alert.watchlist], now=now)
        parent = parent_id(alert.update)
        msg["In-Reply-To"] = parent
        msg["References"] = parent
        return msg
    content = render_email(alert, subject_prefix=settings.subject_prefix)
    return _message(content, settings, alert.delivery_key, [alert.watchlist], now=now)


def parent_id(update: StoryUpdate) -> str:
    """The Message-ID of the first alert's email: the one it was sent with (kept on its delivery;
    the digest's, when it went out in one), else the one derived from its delivery."""
    receipt = update.first_receipt
    if receipt and receipt.startswith("<") and receipt.endswith(">") and "@" in receipt:
        return receipt
    return message_id(update.first_key)


def build_digest_message(digest: Digest, settings: EmailSettings, *, now: datetime | None = None) -> EmailMessage:
    """One message listing every alert of a digest."""
    content = render_digest_email(digest.title, digest.alerts, subject_prefix=settings.subject_prefix)
    watchlists = sorted({a.watchlist for a in digest.alerts})
    return _message(content, settings, digest.key, watchlists, now=now)


def _message(content: EmailContent, settings: EmailSettings, delivery_key: str, watchlists: list[str], *,
             now: datetime | None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = content.subject
    msg["From"] = settings.from_
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = message_id(delivery_key)
    msg[WATCHLIST_HEADER] = ", ".join(" ".join(w.split()) for w in watchlists)
    if delivery_key:
        msg[DELIVERY_HEADER] = delivery_key
    # RFC 3834: tells vacation responders and mailing lists not to answer a machine.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(content.text)
    msg.add_alternative(content.html, subtype="html")
    return msg


class EmailChannel:
    """Sends each alert as one email to every configured recipient."""

    def __init__(
        self, name: str, settings: EmailSettings, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        """`ssl_context` overrides the system trust store (a private CA, or a test's own certificate)."""
        self.name = name
        self.settings = settings
        self._ssl_context = ssl_context

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    async def send(self, alert: Alert) -> str:
        """Returns the Message-ID, for a later update to reply to."""
        return await self._send(build_message(alert, self.settings), alert.delivery_key)

    async def send_digest(self, digest: Digest) -> str:
        return await self._send(build_digest_message(digest, self.settings), digest.key)

    async def _send(self, msg: EmailMessage, delivery_key: str) -> str:
        try:
            refused = await asyncio.to_thread(self._deliver, msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise self._refused(exc.recipients) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._reply_error(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # The server lacks STARTTLS or AUTH that the configuration asks for: fix the settings.
            raise PermanentDeliveryError(self.name, self._clean(f"{self._where}: {exc}")) from exc
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):  # smtplib reports a read timeout as a hang-up
                reason = f"{self._where}: no answer within {self.settings.timeout:g}s"
            else:
                reason = f"{self._where} closed the connection" + (f": {exc}" if str(exc) else "")
            raise DeliveryError(self.name, self._clean(reason)) from exc
        except smtplib.SMTPException as exc:
            raise DeliveryError(self.name, self._clean(f"{self._where}: {exc}")) from exc
        except TimeoutError as exc:
            reason = f"{self._where}: no answer within {self.settings.timeout:g}s"
            raise DeliveryError(self.name, reason) from exc
        except ssl.SSLCertVerificationError as exc:
            reason = f"{self._where}: TLS certificate not trusted ({exc.verify_message})"
            raise DeliveryError(self.name, reason) from exc
        except OSError as exc:
            what = exc.strerror or str(exc) or type(exc).__name__
            raise DeliveryError(self.name, self._clean(f"cannot talk to {self._where}: {what}")) from exc
        if refused:
            # Some recipients took the message: a retry would send them a duplicate, so it is not one.
            log.warning(
                "email_recipients_refused",
                extra={"channel": self.name, "refused": sorted(refused), "delivery_key": delivery_key},
            )
        return str(msg["Message-ID"])

    async def aclose(self) -> None:
        """Nothing is held between sends."""

    @property
    def _where(self) -> str:
        return f"SMTP server {self.settings.host}:{self.settings.port}"

    def _clean(self, text: str) -> str:
        return scrub(text, [self.settings.password] if self.settings.password else [])

    def _reply_error(self, code: int, message: bytes | str) -> DeliveryError:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        reason = self._clean(f"{self._where} answered {code} {' '.join(text.split())}")
        if 500 <= code < 600:
            return PermanentDeliveryError(self.name, reason)
        return DeliveryError(self.name, reason)

    def _refused(self, recipients: dict[str, tuple[int, bytes]]) -> DeliveryError:
        """Every recipient was refused: retry if any refusal was transient, else give up."""
        parts = []
        for address, (code, message) in sorted(recipients.items()):
            parts.append(f"{address}: {code} {' '.join(message.decode('utf-8', 'replace').split())}")
        reason = self._clean("recipients refused: " + "; ".join(parts))
        if any(not 500 <= code < 600 for code, _ in recipients.values()):
            return DeliveryError(self.name, reason)
        return PermanentDeliveryError(self.name, reason)

    def _deliver(self, msg: EmailMessage) -> dict[str, tuple[int, bytes]]:
        """Connect, secure, log in, send; runs in a worker thread. Returns the refused recipients."""
        settings = self.settings
        smtp: smtplib.SMTP
        if settings.ssl:
            context = self._context()
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.starttls:
                smtp.starttls(context=self._context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(msg)
        except BaseException:
            smtp.close()
            raise
        # The message is accepted: a failing QUIT must not turn into a retry (and a duplicate).
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
        return refused

    def __repr__(self) -> str:
        return f"EmailChannel({self.name!r})"
