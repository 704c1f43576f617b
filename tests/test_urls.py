"""canonical_url: one spelling per article, without merging different articles."""

from __future__ import annotations

import pytest

from monitor.urls import canonical_url, host_of, is_tracking_param

SAME = [
    ("HTTP://News.Example.COM/a", "http://news.example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"),
    ("https://example.com/a?fbclid=IwAR0x&gclid=abc&mc_cid=1&mc_eid=2", "https://example.com/a"),
    ("https://www.msn.com/x?ocid=msedgntp&cvid=abc", "https://www.msn.com/x"),
    ("https://www.bbc.co.uk/news/1?at_medium=RSS&at_campaign=KARANGA", "https://www.bbc.co.uk/news/1"),
    ("https://edition.cnn.com/a?cmpid=rss&_ga=2.1", "https://edition.cnn.com/a"),
    ("https://example.com/a?yclid=1&igshid=2&spm=a2.b", "https://example.com/a"),
    ("https://example.com/a?ref_src=twsrc%5Etfw", "https://example.com/a"),
    ("https://example.com/a?ref=twitter", "https://example.com/a"),
    ("https://example.com/%7Euser/caf%c3%a9", "https://example.com/~user/caf%C3%A9"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/a?q=x+y", "https://example.com/a?q=x%20y"),
    ("https://bücher.example/", "https://xn--bcher-kva.example/"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("https://Example.com./a", "https://example.com/a"),
]

DIFFERENT = [
    ("https://example.com/a", "https://example.com/a/"),  # a trailing slash can name another resource
    ("https://example.com/a?id=1", "https://example.com/a?id=2"),
    ("https://example.com/a?p=1", "https://example.com/a"),
    ("https://github.com/o/r?ref=main", "https://github.com/o/r"),  # ref that is not a social source
    ("http://example.com/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com/a"),
    ("https://example.com/a%2Fb", "https://example.com/a/b"),  # an escaped slash is not a slash
    ("https://example.com/A", "https://example.com/a"),  # paths are case-sensitive
]


@pytest.mark.parametrize(("url", "canonical"), SAME)
def test_canonical(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_stay_different(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


def test_non_http_and_broken_urls_come_back_unchanged() -> None:
    assert canonical_url("mailto:news@example.com") == "mailto:news@example.com"
    assert canonical_url("/relative/path") == "/relative/path"
    assert canonical_url("http://[::1") == "http://[::1"
    assert canonical_url("http://example.com:99999/") == "http://example.com:99999/"


def test_tracking_params() -> None:
    assert is_tracking_param("UTM_Source", "x")
    assert is_tracking_param("ref", "rss")
    assert not is_tracking_param("ref", "main")
    assert not is_tracking_param("id", "1")


def test_host_of() -> None:
    assert host_of("https://WWW.Example.com:8080/x") == "www.example.com"
    assert host_of("http://[::1]:80/") == "::1"
    assert host_of("not a url") == ""
    assert host_of("http://[::1") == ""
