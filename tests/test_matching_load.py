"""Loading watchlist files: every mistake is reported with its file, line and key, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.matching import Matcher, load_watchlist, load_watchlists
from monitor.types import Article, Problem

REPO = Path(__file__).resolve().parents[1]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, project_dir: Path | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_watchlist(path, project_dir=project_dir)
    return list(caught.value.problems)


def test_the_shipped_watchlist_loads(tmp_path: Path) -> None:
    watchlist = load_watchlist(REPO / "watchlists" / "eu-leader-moscow-visits.yaml", project_dir=REPO)
    assert watchlist.name == "EU leader visits to Moscow"
    assert watchlist.seeds == (REPO / "seeds" / "orban-moscow-2024-07.txt",)
    assert watchlist.notify is None and watchlist.min_score == 0.6 and watchlist.seed_model is not None


def test_every_problem_of_a_file_with_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", """name: Bad
colour: red
min_score: 2
notify: mail
match:
  all:
    - any: []
    - regex: '(unclosed'
    - entity: eu_head_of_goverment_or_state
    - place: putin
    - near: [Putin, {all: [talks, Moscow]}]
    - {term: Moscow, weight: -1}
    - {term: Kyiv, in: body}
    - {term: 'ab*'}
    - {all: [Moscow], within: 3}
    - {terms: [Moscow], frobnicate: 1}
""")
    found = {(p.line, p.key): p.message for p in problems_of(path)}
    assert all(p for p in found), found
    assert found[(2, "colour")].startswith("unknown key")
    assert "above 0 and at most 1" in found[(3, "min_score")]
    assert "empty group" in found[(7, "match.all.0.any")]
    assert "invalid regular expression" in found[(8, "match.all.1.regex")]
    assert "did you mean eu_head_of_government_or_state" in found[(9, "match.all.2.entity")]
    assert "is a person class" in found[(10, "match.all.3.place")]
    assert "cannot be placed inside near" in found[(11, "match.all.4.near.1")]
    assert "negative weight" in found[(12, "match.all.5.weight")]
    assert "unknown field 'body'" in found[(13, "match.all.6.in")]
    assert "prefix needs at least 3 letters" in found[(14, "match.all.7.term")]
    assert "only near: takes within" in found[(15, "match.all.8.within")]
    assert "unknown key" in found[(16, "match.all.9.frobnicate")]
    assert len(found) == 12  # `notify: mail` (one name, not a list) is fine
    assert all(str(p).startswith(f"{path}:") for p in problems_of(path))


def test_wrong_types(tmp_path: Path) -> None:
    path = write(tmp_path, "types.yaml", "name: [a, b]\nlang: 5\nmatch: {near: Moscow, within: many}\n")
    keys = {p.key for p in problems_of(path)}
    assert {"name", "lang", "match.within"} <= keys


def test_missing_match_and_name(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "description: nothing\n")
    keys = {p.key for p in problems_of(path)}
    assert {"name", "match"} <= keys


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "name: [unclosed\n  - :\n")
    found = problems_of(path)
    assert found and found[0].file == str(path) and found[0].line is not None


def test_missing_seed_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "seeded.yaml", "name: S\nseeds:\n  - seeds/nope.txt\nmatch: Moscow\n")
    (problem,) = problems_of(path, project_dir=tmp_path)
    assert problem.line == 3 and problem.key == "seeds.0" and "seeds/nope.txt" in problem.message


def test_seeds_resolve_against_the_project_then_the_watchlist_folder(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "s.txt").write_text("Headline\nOrbán arrived in Moscow for talks.")
    folder = tmp_path / "watchlists"
    folder.mkdir()
    path = write(folder, "w.yaml", "name: S\nseeds: [seeds/s.txt]\nmatch: {similar_to_seeds: 0.2}\n")
    assert load_watchlist(path, project_dir=tmp_path).seeds == (tmp_path / "seeds" / "s.txt",)
    # without a project folder, the watchlist folder's parent is tried
    assert load_watchlist(path).seeds == (tmp_path / "seeds" / "s.txt",)
    similar_without_seeds = write(folder, "x.yaml", "name: X\nmatch: {similar_to_seeds: 0.2}\n")
    (problem,) = problems_of(similar_without_seeds)
    assert "needs seed articles" in problem.message


def test_a_folder_loads_every_valid_watchlist_and_every_problem(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", "name: Good\nnotify: [mail]\nmatch: Moscow\n")
    write(tmp_path, "also-good.yml", "name: Also good\nmatch: {place: my_capitals}\n")
    write(tmp_path, "broken.yaml", "name: [unclosed\n  - :\n")
    write(tmp_path, "wrong.yaml", "name: Wrong\nmatch: {entity: nobody}\n")
    write(tmp_path, "classes.yaml", "classes:\n  my_capitals:\n    kind: place\n    include: [moscow, kyiv]\n")
    write(tmp_path, "notes.txt", "not yaml at all: [")
    watchlists, problems = load_watchlists(tmp_path)
    assert sorted(w.name for w in watchlists) == ["Also good", "Good"]
    assert {Path(p.file).name for p in problems} == {"broken.yaml", "wrong.yaml"}
    good = next(w for w in watchlists if w.name == "Good")
    assert good.notify == ("mail",)
    matcher = Matcher(watchlists)
    hits = matcher.match(Article(url="u", title="Talks in Kyiv", text="", lang="en"))
    assert [m.watchlist for m in hits] == ["Also good"]


def test_class_file_problems_and_clashes(tmp_path: Path) -> None:
    write(tmp_path, "a-classes.yaml", """classes:
  moscow:
    terms: [Moscow]
  mine:
    kind: planet
    terms: [Mars]
  empty_one:
    kind: place
  ok_one:
    terms: [Mars]
    colour: red
""")
    write(tmp_path, "b-classes.yaml", "classes:\n  dup:\n    terms: [x]\n")
    write(tmp_path, "c-classes.yaml", "classes:\n  dup:\n    terms: [y]\n")
    _, problems = load_watchlists(tmp_path)
    messages = {(Path(p.file).name, p.line, p.key): p.message for p in problems}
    assert "built-in class" in messages[("a-classes.yaml", 2, "classes.moscow")]
    assert "unknown kind 'planet'" in messages[("a-classes.yaml", 5, "classes.mine.kind")]
    assert "needs 'terms'" in messages[("a-classes.yaml", 7, "classes.empty_one")]
    assert "unknown key" in messages[("a-classes.yaml", 11, "classes.ok_one.colour")]
    assert "already defined" in messages[("c-classes.yaml", 2, "classes.dup")]


def test_a_single_watchlist_sees_the_class_files_beside_it(tmp_path: Path) -> None:
    write(tmp_path, "people.yaml", "classes:\n  envoys:\n    kind: person\n    terms: [Witkoff, Kushner]\n")
    path = write(tmp_path, "envoy.yaml", "name: Envoys\nmatch:\n  near: [{person: envoys}, {place: moscow}]\n")
    watchlist = load_watchlist(path)
    verdict = Matcher([watchlist]).evaluate(Article(url="u", title="Witkoff arrives in Moscow", text="", lang="en"))
    assert verdict[0].matched and verdict[0].why[0] == 'person: envoys — "Witkoff"'


def test_define_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yaml", """name: D
define:
  loop: {use: loop}
  bad: {entity: nobody}
match:
  all: [{use: bad}, {use: missing}, {use: loop}]
""")
    found = {(p.line, p.key): p.message for p in problems_of(path)}
    assert "uses itself" in found[(3, "define.loop.use")]
    assert "unknown class 'nobody'" in found[(4, "define.bad.entity")]
    assert "no condition named 'missing'" in found[(6, "match.all.1.use")]
    assert "reported where it is defined" in found[(6, "match.all.0.use")]
