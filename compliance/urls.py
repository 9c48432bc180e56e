"""URL normalisation: when do two links point at the same article?"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

# Parameters that only say where a click came from; they never change which article is shown.
_TRACKING = re.compile(
    r"^(?:utm_[a-z0-9_]+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|ttclid|"
    r"igshid|mc_cid|mc_eid|mkt_tok|_ga|_gl|_hsenc|_hsmi|hsctatracking|ocid|cmpid|"
    r"oly_anon_id|oly_enc_id|vero_id|vero_conv|rb_clickid|s_cid|smid|sr_share|spm|"
    r"ref_src|ref_url|__twitter_impression|at_medium|at_campaign|at_custom\d|wt\.mc_id|"
    r"itm_[a-z_]+|xtor|trkcampaign|sc_cid|icid|ns_mchannel|ns_source|"
    r"ns_campaign|ns_linkname|ns_fee)$",
    re.IGNORECASE,
)
_AMP_QUERY = re.compile(r"^(?:amp|outputtype|output)$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED_SAFE = "/:@!$&'()*+,;=-._~%"


def _host(host: str, amp: bool) -> str:
    host = host.lower().rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    prefixes = ("www.", "amp.", "m.") if amp else ("www.",)
    for prefix in prefixes:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    return host


def normalize_url(url: str, *, amp: bool = True) -> str:
    """A comparison key: scheme, host case, ``www.``, default port, trailing slash, fragment,
    tracking parameters and (with ``amp``) AMP variants do not count."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    path = parts.path
    if amp and host.endswith(".cdn.ampproject.org"):
        # Google's AMP cache: /c/s/example.com/path serves https://example.com/path
        match = re.match(r"^/[cvi]/(s/)?([^/]+)(/.*)?$", path)
        if match:
            host, path = match.group(2), match.group(3) or "/"
            port = None
    host = _host(host, amp)
    port_part = f":{port}" if port and port != _DEFAULT_PORTS.get(scheme) else ""
    path = quote(unquote(path), safe=_UNRESERVED_SAFE)
    path = re.sub(r"/{2,}", "/", path)
    if amp:
        path = re.sub(r"(?:/amp|\.amp|/amp\.html)/?$", "", path)
    path = path.rstrip("/")
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.match(k) and not (amp and _AMP_QUERY.match(k) and v.lower() in
                                            {"", "1", "true", "amp"})
    ]
    query_part = f"?{urlencode(sorted(query))}" if query else ""
    if scheme in {"http", "https", ""}:
        return f"//{host}{port_part}{path}{query_part}"
    return f"{scheme}://{host}{port_part}{path}{query_part}"


_HOST = re.compile(r"\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//(?:[^/?#\s@]*@)?(\[[^\]]*\]|[^/?#\s:]+)")


def host_key(url: str, default: str = "") -> str:
    """The site part of ``url`` as compared by :func:`normalize_url`; ``default`` for a
    relative URL (pass the page's own host key)."""
    match = _HOST.match(url)
    if match is None:
        return default
    return _host(match.group(1), True)


def same_site(url: str, other: str) -> bool:
    return host_key(url) == host_key(other)
