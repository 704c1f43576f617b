"""The story-update decision (monitor.story_updates): pure, so tested on values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.story_updates import (
    ConfirmationCues,
    Report,
    StorySoFar,
    UpdatePolicy,
    confirmation_cues,
    decide,
    growth,
    lead_of,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALERT = Report("https://wire.example/quake", "Wire", "Earthquake of magnitude 6 hits Portsville",
               "A strong earthquake hit Portsville on Monday morning, damaging the harbour.")


def report(outlet: str, title: str | None = None, lead: str = "", url: str | None = None) -> Report:
    slug = outlet.lower().replace(" ", "-")
    return Report(url or f"https://{slug}.example/quake", outlet, title or f"{outlet}: quake hits Portsville", lead)


def story(*joined: Report, updates: int = 0, covered: int = 0) -> StorySoFar:
    return StorySoFar(alerted_at=T0, alert=ALERT, joined=joined, updates=updates, covered=covered)


def test_three_new_outlets_earn_one_update_no_sooner_than_the_gap() -> None:
    policy = UpdatePolicy()
    soon = T0 + timedelta(minutes=20)
    assert decide(policy, story(), report("Courier"), now=soon) is None
    assert decide(policy, story(report("Courier")), report("Herald"), now=soon) is None
    decision = decide(policy, story(report("Courier"), report("Herald")), report("Gazette"), now=soon)
    assert decision is not None
    assert decision.growth.new_outlets == ("Courier", "Herald", "Gazette")
    assert decision.reason == "3 new outlets" and decision.growth.confirmation is None
    assert decision.due_at == T0 + timedelta(hours=1)  # growth in the first hour waits for the gap
    late = T0 + timedelta(hours=3)
    assert decide(policy, story(report("Courier"), report("Herald")), report("Gazette"), now=late).due_at == late  # type: ignore[union-attr]


def test_the_alerting_outlet_and_repeat_outlets_do_not_count() -> None:
    policy = UpdatePolicy()
    joined = (report("Wire", "Wire follow-up: aftershocks"), report("Courier"), report(" courier ", "Second piece"))
    assert decide(policy, story(*joined), report("WIRE", "Wire: damage assessed"), now=T0) is None
    assert growth(story(*joined)).new_outlets == ("Courier",)


def test_at_most_max_updates_and_growth_counts_from_the_last_one() -> None:
    joined = (report("Courier"), report("Herald"), report("Gazette"), report("Tribune"), report("Post"))
    assert decide(UpdatePolicy(), story(*joined, updates=1, covered=3), report("Globe"), now=T0) is None
    two = UpdatePolicy(most=2)
    # After the first update (which counted Courier, Herald, Gazette), Tribune and Post are two: not enough.
    assert decide(two, story(*joined[:4], updates=1, covered=3), report("Post"), now=T0) is None
    decision = decide(two, story(*joined, updates=1, covered=3), report("Globe"), now=T0)
    assert decision is not None and decision.growth.new_outlets == ("Tribune", "Post", "Globe")
    # A Courier piece after the first update is not a new outlet.
    assert growth(story(*joined, report("Courier", "More"), updates=1, covered=3)).new_outlets == ("Tribune", "Post")


def test_a_confirmation_earns_an_update_on_its_own_once() -> None:
    policy = UpdatePolicy(outlets=5)
    confirming = report("Courier", "Government confirms death toll of 12 in Portsville quake")
    decision = decide(policy, story(), confirming, now=T0 + timedelta(hours=2))
    assert decision is not None and decision.growth.confirmation == confirming
    assert decision.reason == "official confirmation, 1 new outlet"
    # Not new when an earlier report of the story already said it was confirmed.
    assert decide(policy, story(confirming), report("Herald", "Officials confirmed the toll"), now=T0) is None
    confirmed_alert = StorySoFar(T0, Report(ALERT.url, "Wire", "Quake confirmed by the seismic office"))
    assert decide(policy, confirmed_alert, confirming, now=T0) is None


def test_a_confirmation_in_the_lead_counts_and_a_negated_one_does_not() -> None:
    policy = UpdatePolicy(outlets=5)
    lead = report("Herald", "Portsville quake: latest", lead="The mayor's office officially announced the curfew.")
    assert decide(policy, story(), lead, now=T0) is not None
    for title in ("Toll has not yet been confirmed", "Unconfirmed reports of a second quake",
                  "Ministry declined to confirm the figures", "Police neither confirmed nor denied"):
        assert decide(policy, story(), report("Herald", title), now=T0) is None, title


@pytest.mark.parametrize(("text", "expected"), [
    ("Kremlin confirmed Orbán's visit", True),
    ("Der Kreml hat den Besuch bestätigt", True),
    ("Der Besuch wurde nicht bestätigt", False),
    ("Le Kremlin confirme la visite d'Orbán", True),
    ("Le Kremlin n'a pas confirmé la visite", False),
    ("El Kremlin confirmó la visita", True),
    ("Il Cremlino ha confermato la visita", True),
    ("Kreml potwierdził wizytę Orbána", True),
    ("Kreml nie potwierdził wizyty", False),
    ("A Kreml megerősítette Orbán látogatását", True),
    ("A Kreml nem erősítette meg", False),
    ("Кремль подтвердил визит Орбана", True),
    ("Кремль не подтвердил визит", False),
    ("Кремль офіційно підтвердив візит", True),
    ("Kreml potvrdil návštěvu", True),
    ("Het Kremlin bevestigt het bezoek", True),
    ("Orbán arrives in Moscow for talks with Putin", False),
    ("Officials said the visit was planned", False),
])
def test_confirmation_cues_across_languages(text: str, expected: bool) -> None:
    assert confirmation_cues().reported_in(text) is expected


def test_the_same_article_again_never_counts() -> None:
    policy = UpdatePolicy(outlets=2)
    herald = report("Herald", "Quake hits Portsville harbour")
    # A renamed URL of a report already counted, even with a confirming lead added.
    moved = Report("https://herald.example/quake-v2", "Herald", "Quake hits Portsville harbour",
                   "The ministry confirmed the toll.")
    assert decide(policy, story(report("Courier"), herald), moved, now=T0) is None
    # The alert's own URL seen again (another feed listing it).
    assert decide(policy, story(report("Courier")), Report(ALERT.url, "Aggregator", "Quake"), now=T0) is None
    # Copies inside the joined reports are skipped when growth is counted.
    assert growth(story(herald, moved)).confirmation is None


def test_lead_is_the_start_of_the_text_or_summary() -> None:
    assert lead_of("  First  line\nsecond " + "x" * 1000) .startswith("First line second ")
    assert len(lead_of("y" * 1000)) == 400
    assert lead_of("", "Summary only") == "Summary only"


def test_cues_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "cues.yaml"
    bad.write_text("languages:\n  en: {negations: [not]}\n")
    with pytest.raises(ValueError, match=r"cues.yaml: languages.en"):
        confirmation_cues(bad)
    custom = tmp_path / "custom.yaml"
    custom.write_text("languages:\n  xx: {cues: [Zork], negations: [nope]}\n")
    cues = confirmation_cues(custom)
    assert cues == ConfirmationCues(("zork",), frozenset({"nope"}))
    assert cues.reported_in("ZORKED today") and not cues.reported_in("nope zorked")


def test_monitor_yaml_turns_updates_off_or_tunes_them_and_reports_mistakes(tmp_path: Path) -> None:
    from monitor.config import load_settings
    from monitor.errors import ConfigError

    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("story_updates: false\n")
    assert load_settings(cfg, env={}).update_policy is None
    cfg.write_text("story_updates:\n")
    assert load_settings(cfg, env={}).update_policy == UpdatePolicy()
    cfg.write_text("story_updates: {outlets: 2, min_gap: 30m, max: 2}\n")
    assert load_settings(cfg, env={}).update_policy == UpdatePolicy(outlets=2, min_gap=timedelta(minutes=30), most=2)
    cfg.write_text("feeds: []\nstory_updates:\n  outlets: 0\n  min_gap: soon\n  maximum: 2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg, env={})
    text = str(caught.value)
    assert "monitor.yaml:3" in text and "outlets" in text
    assert "monitor.yaml:4" in text and "min_gap" in text
    assert "monitor.yaml:5" in text and "maximum" in text
