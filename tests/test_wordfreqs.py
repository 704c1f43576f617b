"""monitor.wordfreqs gives wordfreq's own figures, from a compact table, leaving wordfreq's caches empty."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import wordfreq

from monitor import wordfreqs

ROOT = Path(__file__).resolve().parent.parent
ODD_WORDS = (
    "", "...", "zzqxj", "covid19", "g7", "35000", "2024", "1.5", "x1y2", "donald trump", "l'état", "e-mail",
    "Putin", "NEW", "東京", "ölüm", "orbán", "путин",
    "つ",  # listed twice in the English list: wordfreq's dict keeps the later (rarer) band
    "a1", "ㅡ",  # one and the same bytes in Python's string buffers, so the same str hash
)


def _every_50th(lang: str) -> list[str]:
    return [w for i, w in enumerate(wordfreq.iter_wordlist(lang)) if i % 50 == 0]


@pytest.mark.parametrize("lang", ["en", "ru", "es", "hu"])
def test_zipf_frequency_is_wordfreqs_to_the_hundredth(lang: str) -> None:
    words = _every_50th(lang) + list(ODD_WORDS)
    words += [w.title() for w in words[:500]] + [w + "q" for w in words[:500]]
    differ = [(w, wordfreq.zipf_frequency(w, lang), wordfreqs.zipf_frequency(w, lang)) for w in words
              if wordfreq.zipf_frequency(w, lang) != wordfreqs.zipf_frequency(w, lang)]
    assert differ == []
    assert wordfreqs.zipf_frequency("the", "en") > 7.0 and wordfreqs.zipf_frequency("zzqxj", lang) == 0.0


@pytest.mark.parametrize("lang", ["en", "es", "zh", "ja", "ko"])
def test_zipf_and_idf_are_the_direct_lookups_to_the_bit(lang: str) -> None:
    freqs = wordfreq.get_frequency_dict(lang)
    for word in [*list(freqs)[::40], *ODD_WORDS]:
        freq = freqs.get(word, 0.0)
        assert wordfreqs.zipf(word, lang) == (0.0 if freq <= 0 else max(0.0, math.log10(freq) + 9.0)), word
        assert wordfreqs.idf(word, lang) == (8.0 if freq <= 0 else max(0.0, 8.0 - (math.log10(freq) + 9.0))), word


def test_a_language_without_a_list_is_looked_up_in_english() -> None:
    assert wordfreqs.zipf("the", "xx") == wordfreqs.zipf("the", "en") > 7.0


def test_the_table_takes_eight_bytes_a_word_and_leaves_wordfreqs_caches_and_tokenisers_alone() -> None:
    script = ("import sys, wordfreq; from monitor import wordfreqs; "
              "print(wordfreqs.zipf_frequency('orbán', 'hu') > 3, wordfreqs.zipf('地震', 'zh') > 3, "
              "wordfreqs.zipf('地震', 'ja') > 3, wordfreqs.idf('지진', 'ko') < 5, "
              "wordfreq.get_frequency_dict.cache_info().currsize, wordfreq.get_frequency_list.cache_info().currsize, "
              "'jieba' in sys.modules, 'MeCab' in sys.modules, "
              "len(wordfreqs._table('hu').entries) * 8)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    *flags, size = done.stdout.split()
    assert flags == ["True", "True", "True", "True", "0", "0", "False", "False"]
    words = sum(len(band) for band in wordfreq.read_cBpack(wordfreq.available_languages()["hu"]))
    assert int(size) == 8 * (words + wordfreqs._HEADER)  # 8 bytes a word, and the parts' offsets


@pytest.mark.parametrize("lang", ["en", "de", "fr", "pl", "cs", "el", "ru", "uk", "bg", "hu", "ro", "tr", "sh", "vi",
                                  "ar", "hi"])
def test_the_direct_path_for_plain_words_agrees_with_wordfreqs_tokeniser(lang: str) -> None:
    """Plain lower-case words skip wordfreq's tokeniser (monitor.wordfreqs._plain_word): every word of
    the list, its capitalised and its unlisted forms, and words of other scripts, agree either way."""
    words = _every_50th(lang)[:4000] + list(ODD_WORDS) + ["straße", "groß", "ʼn", "ǆ", "ﬁnd", "naïve", "cafe\u0301",
                                                            "kișinin", "acelaşi", "схваташ", "ıstanbul", "μόσχα"]
    words += [w.title() for w in words[:300]] + [w + "q" for w in words[:300]]
    direct = [w for w in words if wordfreqs._plain_language(lang) and wordfreqs._plain_word(w)]
    assert len(direct) > len(words) / 3 if wordfreqs._plain_language(lang) else not direct
    differ = [(w, wordfreq.zipf_frequency(w, lang), wordfreqs.zipf_frequency(w, lang)) for w in words
              if wordfreq.zipf_frequency(w, lang) != wordfreqs.zipf_frequency(w, lang)]
    assert differ == []


_CACHE_PROBE = ("import sys, time; from monitor import wordfreqs; t = time.process_time(); "
                "value = wordfreqs.zipf_frequency('orbán', 'hu'); "
                "print(type(wordfreqs._table('hu').entries).__name__, value, time.process_time() - t)")


def _probe(cache: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _CACHE_PROBE], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, wordfreqs.CACHE_ENV: str(cache)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_table_is_built_once_and_then_mapped_by_every_process(tmp_path: Path) -> None:
    expected = str(wordfreq.zipf_frequency("orbán", "hu"))
    kind, value, built = _probe(tmp_path)
    assert (kind, value) == ("memoryview", expected)  # built, written, and mapped from the file
    [table] = tmp_path.glob("wordfreq-*.table")
    kind, value, mapped = _probe(tmp_path)
    assert (kind, value) == ("memoryview", expected)
    assert float(mapped) < float(built) / 5  # read, not built again
    table.write_bytes(table.read_bytes()[:4096])  # a torn file (a full disk, a crash mid-write)
    assert _probe(tmp_path)[:2] == ["memoryview", expected]  # rebuilt and replaced
    assert table.stat().st_size > 4096 and not list(tmp_path.glob(".table-*"))


def test_a_cache_that_cannot_be_written_only_costs_the_build(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    assert _probe(blocked)[:2] == ["array", str(wordfreq.zipf_frequency("orbán", "hu"))]
