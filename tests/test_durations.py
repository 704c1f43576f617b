from datetime import timedelta

import pytest

from monitor.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("15m", 900), ("1h", 3600), ("2d", 172800), ("1h30m", 5400), (45, 45), ("90", 90), ("1w", 604800),
])
def test_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["soon", "", "15x", "-5m", True])
def test_bad(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)  # type: ignore[arg-type]


def test_format_round_trip() -> None:
    for text in ("30s", "15m", "1h30m", "2d"):
        assert format_duration(parse_duration(text)) == text
