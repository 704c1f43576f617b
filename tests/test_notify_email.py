"""The email channel against a real aiosmtpd server on 127.0.0.1: what arrives, and how refusals map."""

from __future__ import annotations

import asyncio
import email
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.notify import build_channel
from monitor.notify.email import EmailChannel, message_id
from monitor.notify.settings import EmailSettings
from monitor.types import Alert, Article, Match

URL = "https://hvg.example.hu/vilag/2024/07/05/orban-moszkva?x=1&y=2"
PASSWORD = "s3cret-Pa55word"


def make_alert(title: str = "Orbán Moszkvába érkezett", key: str = "delivery-1") -> Alert:
    article = Article(
        url=URL,
        title=title,
        text="Orbán Viktor pénteken Moszkvába érkezett, ahol Vlagyimir Putyinnal tárgyal. " * 10,
        published=datetime(2024, 7, 5, 9, 30, tzinfo=UTC),
        lang="hu",
        outlet="HVG",
    )
    match = Match(
        watchlist="EU leader visits to Moscow",
        score=0.91,
        why=("Orbán (EU head of government)", "Moszkva → Moscow"),
        snippet="Orbán Viktor pénteken Moszkvába érkezett.",
    )
    return Alert(watchlist="EU leader visits to Moscow", article=article, match=match, delivery_key=key)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it received, or refuses as told."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        parsed = email.message_from_bytes(envelope.original_content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


def settings(port: int, **changes: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "from": "News Monitor <monitor@example.org>",
        "to": ["desk@example.org", "Anna Kovács <anna@example.org>"],
        "timeout": 5,
    }
    values.update(changes)
    return EmailSettings.model_validate(values)


def send(channel: EmailChannel, alert: Alert) -> None:
    asyncio.run(channel.send(alert))


def test_mail_arrives_as_multipart_alternative(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    channel = build_channel("desk", settings(port))
    assert isinstance(channel, EmailChannel)
    send(channel, make_alert())

    [msg] = recorder.messages
    assert recorder.envelopes == [("monitor@example.org", ["desk@example.org", "anna@example.org"])]
    assert msg["Subject"] == "[news-monitor] EU leader visits to Moscow: Orbán Moszkvába érkezett"
    assert msg["X-News-Monitor-Watchlist"] == "EU leader visits to Moscow"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"] == message_id("delivery-1")
    assert msg["Date"] is not None
    assert msg.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text = text_part.get_content()
    assert URL in text.splitlines()
    assert "Why: Orbán (EU head of government); Moszkva → Moscow (score 0.91)" in text
    assert (
        'href="https://hvg.example.hu/vilag/2024/07/05/orban-moszkva?x=1&amp;y=2"' in html_part.get_content()
    )


@pytest.mark.parametrize(
    "title",
    [
        "Orbán Viktor Moszkvába érkezett: árvíztűrő tükörfúrógép",
        "Ο Όρμπαν έφτασε στη Μόσχα για συνομιλίες με τον Πούτιν",
        "Орбан прибыл в Москву на переговоры с Путиным",
    ],
)
def test_non_ascii_headline_survives(smtp_server: tuple[Recorder, int], title: str) -> None:
    recorder, port = smtp_server
    send(EmailChannel("desk", settings(port)), make_alert(title=title))
    [msg] = recorder.messages
    assert msg["Subject"] == f"[news-monitor] EU leader visits to Moscow: {title}"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert title in body.get_content()


def test_message_id_is_deterministic_per_delivery_key(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    channel = EmailChannel("desk", settings(port))
    send(channel, make_alert(key="k-42"))
    send(channel, make_alert(key="k-42"))
    send(channel, make_alert(key="k-43"))
    ids = [m["Message-ID"] for m in recorder.messages]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].startswith("<") and ids[0].endswith("@news-monitor>")
    assert message_id("") != message_id("")  # no key: a fresh id each time


def test_transient_refusal_of_data_is_retryable(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.data_reply = "451 4.3.0 try later"
    with pytest.raises(DeliveryError) as caught:
        send(EmailChannel("desk", settings(port)), make_alert())
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert "451" in caught.value.reason and "try later" in caught.value.reason
    assert caught.value.channel == "desk"


def test_transient_refusal_of_recipient_is_retryable(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.rcpt_reply = "451 4.3.0 try later"
    with pytest.raises(DeliveryError) as caught:
        send(EmailChannel("desk", settings(port)), make_alert())
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert "desk@example.org: 451" in caught.value.reason


def test_unknown_recipient_is_permanent(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.rcpt_reply = "550 5.1.1 no such user"
    with pytest.raises(PermanentDeliveryError) as caught:
        send(EmailChannel("desk", settings(port)), make_alert())
    assert "550" in caught.value.reason and "no such user" in caught.value.reason
    assert recorder.messages == []


def test_permanent_refusal_of_data(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.data_reply = "554 5.7.1 message rejected as spam"
    with pytest.raises(PermanentDeliveryError, match="rejected as spam"):
        send(EmailChannel("desk", settings(port)), make_alert())


def test_nothing_listening_is_retryable_and_does_not_leak_the_password() -> None:
    port = free_port()
    channel = EmailChannel("desk", settings(port, username="monitor", password=PASSWORD))
    with pytest.raises(DeliveryError) as caught:
        send(channel, make_alert())
    error = caught.value
    assert not isinstance(error, PermanentDeliveryError)
    assert f"127.0.0.1:{port}" in error.reason
    assert "refused" in error.reason.lower()
    assert PASSWORD not in str(error)


def test_silent_server_times_out_as_retryable() -> None:
    with socket.socket() as listener:  # accepts TCP (the backlog) but never says hello
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(DeliveryError) as caught:
            send(EmailChannel("desk", settings(port, timeout=0.5)), make_alert())
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.reason == f"SMTP server 127.0.0.1:{port}: no answer within 0.5s"


# ---- AUTH and TLS --------------------------------------------------------------------------------


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"monitor"
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_login_over_plain_connection() -> None:
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        send(
            EmailChannel("desk", settings(controller.port, username="monitor", password=PASSWORD)),
            make_alert(),
        )
        assert len(recorder.messages) == 1

        wrong = "not-the-Password"
        with pytest.raises(PermanentDeliveryError) as caught:
            send(
                EmailChannel("desk", settings(controller.port, username="monitor", password=wrong)),
                make_alert(),
            )
        assert "535" in caught.value.reason
        assert wrong not in str(caught.value)
        assert len(recorder.messages) == 1
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {result.stderr.decode(errors='replace')[:200]}")
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_then_login(certificate: tuple[Path, Path]) -> None:
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        trusted = ssl.create_default_context(cafile=str(certificate[0]))
        config = settings(controller.port, starttls=True, username="monitor", password=PASSWORD)
        send(EmailChannel("desk", config, ssl_context=trusted), make_alert())
        assert len(recorder.messages) == 1

        # The system trust store does not know the test certificate: a readable, retryable error.
        with pytest.raises(DeliveryError) as caught:
            send(EmailChannel("desk", config, ssl_context=ssl.create_default_context()), make_alert())
        assert "not trusted" in caught.value.reason
        assert PASSWORD not in str(caught.value)

        # A server that requires STARTTLS refuses mail sent without it.
        with pytest.raises(DeliveryError) as refused:
            send(EmailChannel("desk", settings(controller.port)), make_alert())
        assert "530" in refused.value.reason
        assert len(recorder.messages) == 1
    finally:
        controller.stop()


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=server_context(certificate),
    )
    controller.start()
    try:
        trusted = ssl.create_default_context(cafile=str(certificate[0]))
        send(EmailChannel("desk", settings(controller.port, ssl=True), ssl_context=trusted), make_alert())
        [msg] = recorder.messages
        assert msg["Message-ID"] == message_id("delivery-1")
    finally:
        controller.stop()
