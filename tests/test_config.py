"""monitor.yaml: the contract keys, ${VAR}, and every problem reported at once with file and line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import config_path, load_settings
from monitor.errors import ConfigError
from monitor.notify.settings import ConsoleSettings, EmailSettings, SlackSettings

CONTRACT = """\
database: sqlite:///monitor.db      # any SQLAlchemy URL
watchlists: watchlists              # folder of *.yaml
feeds:
  - url: https://example.org/world/rss.xml
    every: 15m                      # optional; 30s, 15m, 1h...
    name: Example World             # optional
fetch:
  allow_private_networks: false
  timeout: 20
channels:
  mail:
    type: email
    host: smtp.example.org
    port: 587
    starttls: true
    username: ${SMTP_USER}
    password: ${SMTP_PASSWORD}
    from: monitor@example.org
    to: [analyst@example.org]
  chat:
    type: slack
    webhook_url: ${SLACK_WEBHOOK_URL}
  screen:
    type: console
"""
ENV = {"SMTP_USER": "u", "SMTP_PASSWORD": "p", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text)
    return path


def test_the_contract_example_loads(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, CONTRACT), env=ENV)
    assert s.database_url == f"sqlite:///{tmp_path / 'monitor.db'}"
    assert s.watchlist_dir == tmp_path / "watchlists"
    [feed] = s.feed_sources
    assert (feed.url, feed.name, feed.every) == ("https://example.org/world/rss.xml", "Example World",
                                                 timedelta(minutes=15))
    assert s.fetch.timeout == 20 and s.fetch.allow_private_networks is False
    mail, chat, screen = (s.channels[k] for k in ("mail", "chat", "screen"))
    assert isinstance(mail, EmailSettings) and mail.password == "p" and mail.from_ == "monitor@example.org"
    assert isinstance(chat, SlackSettings) and chat.webhook_url.endswith("/X")
    assert isinstance(screen, ConsoleSettings)


def test_every_problem_at_once_with_line_and_key(tmp_path: Path) -> None:
    text = CONTRACT.replace("every: 15m ", "every: soon").replace("timeout: 20", "timout: 20")
    text = text.replace("type: slack", "type: slak").replace("port: 587", "port: many")
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={"SMTP_USER": "u", "SLACK_WEBHOOK_URL": "x"})
    got = {(p.line, p.key) for p in caught.value.problems}
    messages = "\n".join(str(p) for p in caught.value.problems)
    assert (17, "channels.mail.password") in got and "SMTP_PASSWORD" in messages
    assert (5, "feeds.0.every") in got
    assert (9, "fetch.timout") in got
    assert (14, "channels.mail.port") in got
    assert "slak" in messages
    assert str(tmp_path / "monitor.yaml") in messages


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, "feeds:\n  - url: [unclosed\n"))
    [problem] = caught.value.problems
    assert problem.line is not None and problem.line >= 2 and "invalid YAML" in problem.message


def test_missing_file_and_defaults(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "nope.yaml")
    s = load_settings(write(tmp_path, "feeds: []\n"))
    assert list(s.active_channels) == ["console"] and s.backfill == timedelta(hours=24)


def test_duplicate_feed_and_bad_scheme(tmp_path: Path) -> None:
    text = "feeds:\n  - url: https://a/rss\n  - url: https://a/rss\n  - url: file:///etc/passwd\n"
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    lines = sorted(p.line or 0 for p in caught.value.problems)
    assert lines == [3, 4]


def test_config_path_precedence(tmp_path: Path) -> None:
    assert config_path("x.yaml", env={"MONITOR_CONFIG": "y.yaml"}) == Path("x.yaml")
    assert config_path(None, env={"MONITOR_CONFIG": "y.yaml"}) == Path("y.yaml")
    assert config_path(None, env={}) == Path("monitor.yaml")
