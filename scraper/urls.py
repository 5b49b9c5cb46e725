"""URL identity: the canonical URL of an article and the URL worth requesting.

The canonical URL is an article's identity (and its feed GUID), so these rules must be
stable: https, lower-case host, host aliases folded to the source's canonical host,
``;jsessionid=…``, print views and tracking parameters removed, query sorted, no fragment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_JSESSIONID = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_TRACKING_NAMES = frozenset(
    {"fbclid", "gclid", "mc_cid", "mc_eid", "wt_mc", "etcc_med", "etcc_cmp"}
)
# Parameters that only select another rendering of the same page.
_VIEW_PARAMS = frozenset({("view", "renderprint"), ("view", "renderprintview")})


def _keep_param(name: str, value: str) -> bool:
    lowered = name.lower()
    if lowered.startswith(_TRACKING_PREFIXES) or lowered in _TRACKING_NAMES:
        return False
    return (lowered, value.lower()) not in _VIEW_PARAMS


def _clean_query(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if _keep_param(k, v)]
    return urlencode(sorted(pairs), doseq=True)


def clean_url(url: str) -> str:
    """The URL to request: session ids, print views, tracking and fragment removed.

    The host is kept (an old alias host may serve pages the new one does not). The query is
    left byte for byte when nothing is removed, since servers may care about its encoding
    (GSB's ``%253D``) and order.
    """
    parts = _split(url)
    path = _JSESSIONID.sub("", parts.path) or "/"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if _keep_param(k, v)]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    scheme = "https" if parts.scheme == "http" else parts.scheme
    return urlunsplit((scheme, parts.netloc.lower(), path, query, ""))


def canonical_url(
    url: str,
    hosts: Sequence[str] = (),
    rewrites: Iterable[tuple[re.Pattern[str], str]] = (),
) -> str:
    """The identity of an article URL.

    ``hosts``: the source's hosts, canonical first; any of them (and the bare domain without
    ``www.``) folds to the first. ``rewrites``: (pattern, replacement) applied to the path, for
    sources where several paths name one article (openPR's ``/news/<id>/<slug>.html``).
    """
    parts = _split(url)
    host = (parts.hostname or "").lower()
    port = _port(parts)
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    if hosts:
        aliases = {h.lower() for h in hosts} | {h.lower().removeprefix("www.") for h in hosts}
        if host in aliases:
            host = hosts[0].lower()
    path = _JSESSIONID.sub("", parts.path) or "/"
    for pattern, replacement in rewrites:
        path = pattern.sub(replacement, path)
    return urlunsplit(("https", host, path, _clean_query(parts.query), ""))


def host_of(url: str) -> str:
    return (_split(url).hostname or "").lower()


def absolute_url(base: str, href: str) -> str | None:
    """``href`` (from a page) resolved against ``base``, when it is a web link: http(s)
    with a host. None for anything else — ``javascript:``, ``data:``, a broken IPv6 host or
    port that would make urllib raise."""
    try:
        absolute = urljoin(base, href.strip())
        parts = urlsplit(absolute)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    return absolute if parts.scheme in ("http", "https") and parts.hostname else None


def _split(url: str) -> SplitResult:
    """``urlsplit`` that never raises: a URL it cannot split (an unclosed IPv6 bracket)
    keeps its text as the path, with no host (so it is no source's article)."""
    try:
        return urlsplit(url.strip())
    except ValueError:
        return SplitResult("", "", url.strip().replace("[", "%5B").replace("]", "%5D"), "", "")


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:  # out of range: no port we could connect to; dropped
        return None
