"""The examples users copy from README.md and docs/watchlists.md must work as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.matching import watchlist_from_text

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def yaml_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def watchlist_blocks() -> list[tuple[str, str]]:
    found = []
    for doc in (REPO / "README.md", REPO / "docs" / "watchlists.md"):
        for i, block in enumerate(yaml_blocks(doc)):
            if re.search(r"^name:", block, re.M) and re.search(r"^match:", block, re.M) and "..." not in block:
                found.append((f"{doc.name}#{i}", block))
    return found


@pytest.mark.parametrize(("where", "block"), watchlist_blocks(), ids=[w for w, _ in watchlist_blocks()])
def test_watchlist_examples_load(where: str, block: str) -> None:
    watchlist = watchlist_from_text(block, project_dir=REPO)
    assert watchlist.name


def test_readme_has_watchlist_examples() -> None:
    assert any(w.startswith("README.md") for w, _ in watchlist_blocks())


def test_readme_configuration_example_loads(tmp_path: Path) -> None:
    [block] = [b for b in yaml_blocks(REPO / "README.md") if b.startswith("database:") and "channels:" in b]
    path = tmp_path / "monitor.yaml"
    path.write_text(block)
    settings = load_settings(path, env={"SMTP_USER": "u", "SMTP_PASSWORD": "p",
                                        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X"})
    assert set(settings.channels) == {"mail", "chat", "screen"}


def test_bundled_monitor_yaml_is_valid() -> None:
    settings = load_settings(REPO / "monitor.yaml", env={})
    assert len(settings.feeds) >= 4 and list(settings.active_channels) == ["console"]
    assert settings.watchlist_dir == REPO / "watchlists"
