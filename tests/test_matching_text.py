"""Folding, tokens, sentences and the lead: the one view of an article every rule reads."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.matching.inflect import forms_of
from monitor.matching.terms import TermError, parse_term
from monitor.matching.text import Field, analyse, fold, primary_lang, sentences, tokenize
from monitor.types import Article


def test_fold_removes_case_accents_and_script_variants() -> None:
    assert fold("Orbán ORBAN orban") == "orban orban orban"
    assert fold("Moskvě Москве Μόσχα") == "moskve москве μοσχα"
    assert fold("Łódź Ørsted Straße Ærø") == "lodz orsted strasse aero"
    assert fold("Ново-Огарёво Йоханнис") == "ново-огарево иоханнис"
    assert tokenize("Orbán-Putyin, Orban's (Moszkvában)") == ["orban", "putyin", "orban", "s", "moszkvaban"]


def test_sentences_do_not_break_on_abbreviations_or_initials() -> None:
    text = "Mr. Orbán met V. Putin in Moscow. The U.S. said nothing! Then\nnew paragraph"
    parts = [text[a:b] for a, b in sentences(text)]
    assert parts == ["Mr. Orbán met V. Putin in Moscow.", "The U.S. said nothing!", "Then", "new paragraph"]


def test_analyse_marks_fields_sentences_and_the_lead() -> None:
    text = "One. Two two. Three three three. Four is not in the lead."
    doc = analyse(Article(url="https://example.org/orban-moscow", title="Title here", text=text,
                          outlet="Example News", lang="en-GB", published=datetime(2024, 7, 5, 9, tzinfo=UTC)))
    assert doc.lang == "en" and str(doc.day) == "2024-07-05"
    assert doc.tokens[:3] == ("title", "here", "one")
    lead = {doc.tokens[i] for i in range(doc.lead_end)}
    assert {"title", "one", "two", "three"} <= lead and "four" not in lead
    assert doc.field[doc.tokens.index("orban")] == Field.URL
    assert doc.field[doc.tokens.index("news")] == Field.OUTLET
    # every key position points at the space before its token, and sentences are fenced with " |"
    assert len(doc.key_offsets) == len(doc.tokens) and list(doc.key_offsets) == sorted(doc.key_offsets)
    for i, offset in enumerate(doc.key_offsets):
        assert doc.keyed[offset + 1: offset + 1 + len(doc.tokens[i])] == doc.tokens[i]
        assert doc.token_at(offset) == i and doc.token_at(offset + 1) is None
    assert " here | one | two two |" in doc.keyed


def test_primary_language() -> None:
    assert primary_lang("pt-BR") == "pt" and primary_lang("de_AT") == "de"
    assert primary_lang("") is None and primary_lang(None) is None


def test_terms_parse_words_phrases_prefixes_and_capitals() -> None:
    assert parse_term("Prime Minister").key == " prime minister "
    prefix = parse_term("Moszkv*")
    assert prefix.key == " moszkv" and prefix.prefix == (True,)
    cased = parse_term("=Kurz")
    assert cased.capitals == (True,)
    for bad in ("", "*", "ab*", "  "):
        try:
            parse_term(bad)
        except TermError:
            continue
        raise AssertionError(f"{bad!r} should not parse")


def test_inflected_forms_are_generated_per_language() -> None:
    orban = forms_of("orban", None)
    assert {"orbannal", "orbant"} <= set(orban) and orban["orbannal"] == frozenset({"hu"})
    assert "sk" in (orban["orbana"] or ())
    fico = forms_of("fico", None)
    assert {"fica", "ficom", "ficovi"} <= set(fico) and "pt" not in (fico["fica"] or ())
    assert {"орбана", "орбаном"} <= set(forms_of("орбан", "ru"))
    assert "τσιπρα" in forms_of("τσιπρασ", "el")
