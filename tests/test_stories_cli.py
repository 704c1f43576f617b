"""`monitor stories group`: JSON lines in input order, a table, and clean errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.commands.stories import COMMANDS, stories_group

DATA = Path(__file__).parent / "data" / "stories"


def test_group_prints_one_line_per_article_in_input_order() -> None:
    result = CliRunner().invoke(stories_group, ["group", "--articles", str(DATA / "articles.jsonl")])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in result.output.splitlines()]
    want = [json.loads(line) for line in (DATA / "expected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert got == want


def test_group_table_shows_stories_and_reasons() -> None:
    result = CliRunner().invoke(stories_group, ["group", "--articles", str(DATA / "articles.jsonl"),
                                                "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "5 stories in 8 article(s)" in result.output
    # The table wraps cells to the terminal's width: look at the words, not the lines.
    words = result.output.replace("│", " ").split()
    assert words.count("near-duplicate") == 1 and words.count("starts") == 5


def test_group_window_option_changes_the_grouping(tmp_path: Path) -> None:
    result = CliRunner().invoke(stories_group, ["group", "--articles", str(DATA / "articles.jsonl"),
                                                "--window", "7d"])
    assert result.exit_code == 0, result.output
    stories = {row["id"]: row["story"] for row in map(json.loads, result.output.splitlines())}
    assert stories["d1"] == "a1"  # the follow-up four days on joins the Moscow story in a week's window


def test_group_reports_bad_lines_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "title": "t", "text": ""}\nnot json\n{"title": "no id"}\n', encoding="utf-8")
    result = CliRunner().invoke(stories_group, ["group", "--articles", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2" in result.output and f"{bad}:3" in result.output


def test_group_rejects_a_bad_window_and_a_missing_file(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(stories_group, ["group", "--articles", str(DATA / "articles.jsonl"), "--window", "soon"])
    assert result.exit_code == 2 and "not a duration" in result.output
    missing = runner.invoke(stories_group, ["group", "--articles", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_the_group_is_exported_for_registration() -> None:
    assert [stories_group] == COMMANDS
    assert "group" in stories_group.commands
