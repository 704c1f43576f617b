"""URL normalisation, so the same article reached by two links is stored and alerted on once.

Publishers link one article under many addresses: with campaign parameters (utm_*, fbclid, …), with a
fragment, with ``:443``, with query parameters in another order. ``canonical_url`` maps those to one
string. It only removes what never selects content (tracking parameters, default ports, fragments)
and keeps everything else, including a trailing slash: ``/a`` and ``/a/`` can be different resources
(RFC 3986 §6.2.3 only equates an empty path with ``/``).

Written with urllib.parse rather than a library: courlan's ``normalize_url(strict=True)`` drops every
query parameter outside an allow-list (and so merges distinct articles addressed by ``?p=123``), and
w3lib is not otherwise needed.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters that only say how a reader arrived, never which content they get. Sources: the
# parameters Google Analytics, Facebook, Microsoft, Mailchimp, Adobe/Omniture, Yandex, Instagram,
# Alibaba, HubSpot, Marketo, Matomo/Piwik and the BBC/Guardian/MSN article links put on URLs.
_TRACKING_EXACT = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid", "twclid",
    "igshid", "igsh", "mc_cid", "mc_eid", "mkt_tok", "ocid", "cmpid", "_ga", "_gl", "_hsenc",
    "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking", "spm", "scm", "at_medium", "at_campaign",
    "at_custom1", "at_custom2", "at_custom3", "at_custom4", "at_ptr_name", "at_link_origin",
    "at_link_type", "at_bbc_team", "at_format", "at_link_id", "at_objectid", "s_cid", "s_kwcid",
    "ito", "icid", "ncid", "sr_share", "smid", "smtyp", "cid_source", "wt_mc", "wt.mc_id", "xtor",
    "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "trk", "trkcampaign",
    "sc_campaign", "sc_channel", "sc_content", "sc_medium", "sc_outcome", "sc_geo", "sc_country",
    "cvid", "guccounter", "guce_referrer", "guce_referrer_sig", "soc_src", "soc_trk", "ref_url",
    "fb_action_ids", "fb_action_types", "fb_ref", "fb_source", "action_object_map", "action_type_map",
    "action_ref_map", "pk_campaign", "pk_kwd", "pk_source", "pk_medium", "piwik_campaign",
    "piwik_kwd", "mtm_campaign", "mtm_source", "mtm_medium", "mtm_content", "mtm_keyword",
})
_TRACKING_PREFIXES = ("utm_", "hmb_", "pk_", "mtm_")
# `ref` / `ref_src` select content on a few sites (GitHub's ?ref=branch), so they are dropped only
# when their value names a social network, feed reader or newsletter, as Twitter's ref_src=twsrc^tfw.
_REF_PARAMS = frozenset({"ref", "ref_src", "referrer", "src", "source"})
_SOCIAL_REF = re.compile(
    r"^(tw|twsrc|twitter|fb|facebook|ig|instagram|linkedin|reddit|rss|feed|newsletter|email|mail|"
    r"social|share|whatsapp|telegram|t\.co|hn|hackernews|mastodon|flipboard|feedly|inoreader|"
    r"news\.google|google_?news|apple_?news|msn|yahoo)",
    re.IGNORECASE,
)
# Unreserved characters (RFC 3986 §2.3) are decoded; everything else keeps or gets its %XX escape.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=%"
_QUERY_SAFE = "/:@!$'()*+,;?"


def is_tracking_param(name: str, value: str) -> bool:
    """True for a query parameter that only tells how a reader arrived at the page."""
    key = name.lower()
    if key in _TRACKING_EXACT or key.startswith(_TRACKING_PREFIXES):
        return True
    return key in _REF_PARAMS and bool(_SOCIAL_REF.match(value))


def _normal_host(host: str) -> str:
    host = host.rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def _unescape_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else f"%{match.group(1).upper()}"


def _requote_path(path: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what must be (RFC 3986
    §6.2.2). An escaped reserved character such as %2F keeps its escape: it means something else."""
    path = _ESCAPE.sub(_unescape_unreserved, _LONE_PERCENT.sub("%25", path))
    return quote(path, safe=_PATH_SAFE)


def _remove_dot_segments(path: str) -> str:
    """'/a/./b/../c' → '/a/c' (RFC 3986 §5.2.4), keeping a trailing slash where a dot segment ends."""
    segments = path.split("/")
    if "." not in segments and ".." not in segments:
        return path
    out: list[str] = []
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        if segment in (".", ".."):
            if segment == ".." and len(out) > 1:
                out.pop()
            if i == last:
                out.append("")
            continue
        out.append(segment)
    return "/".join(out)


def canonical_url(url: str) -> str:
    """One spelling of `url` for de-duplication; not a URL to fetch (the fragment is gone).

    Relative or non-HTTP URLs come back stripped of surrounding space but otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = _normal_host(parts.hostname)
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += f":{parts.password}"
        netloc = f"{userinfo}@{netloc}"
    path = _remove_dot_segments(_requote_path(parts.path)) or "/"
    pairs = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(key, value)
    ]
    pairs.sort()
    query = urlencode(pairs, quote_via=quote, safe=_QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """The lower-case host name of `url` without port, or "" when it has none."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return ""
    return _normal_host(host) if host else ""
