"""photo_credit: every article photo carries its credit, visibly, in or next to its caption.

Parameters:

- ``credits``: credits to expect when the manifest row has no ``photo_credits``
  (e.g. ``["Kremlin/Released"]``). The manifest's ``photo_credits`` (or ``--photo-credit``)
  win. A photo passes when its caption contains one of them, compared normalised (case,
  quotes, dashes, spaces around ``/`` and outer brackets do not matter).
- ``pattern``: when no credits are known, a caption passes if it matches this regular
  expression; the default recognises common credit forms ("Photo:", "Credit:", "©",
  "(Agency/Name)", "Getty Images", "Foto:", "Bild:", "Crédit", "Фото"...).
- ``scope``: ``article`` (default), ``page``, ``body`` or a CSS selector.
- ``min_size``: images whose declared width or height is below this many pixels (default 100),
  or whose ``sizes`` attribute only ever draws them narrower than that, are icons and avatars,
  not article photos.

Article photos are the visible ``<img>``/``<amp-img>`` elements in the scope, including
lazy-loaded ones (``data-src``, ``data-lazy-src``, ``srcset``); logos, icons, avatars, share
buttons, tracking pixels, images in navigation, footers, sidebars, author boxes and related-story
lists, and decorative images (``role=presentation``, or ``alt=""`` with no caption) are not.
A photo's caption is its ``<figcaption>`` (with any credit element inside the ``<figure>``),
WordPress ``wp-caption-text``, or a caption/credit element right after the image. A credit only in
``alt`` or ``title`` does not count: readers do not see it.

Passing example (credits ``["(Kremlin/Released)"]``)::

    <figure class="wp-block-image"><img src="putin.jpg" width="1200" height="800">
      <figcaption>Trump and Putin, July 7, 2017. (Kremlin/Released)</figcaption></figure>

Failing example (the credit is only in the alt text)::

    <img src="putin.jpg" alt="Trump and Putin (Kremlin/Released)" width="1200" height="800">
"""

from __future__ import annotations

import re
from typing import Any

import regex

from ..model import Finding, Rule
from ..page import Element, Page
from ..text import shorten, squash
from .common import REGEX_TIMEOUT

PARAMS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "credits": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "pattern": {"type": "string", "minLength": 1, "format": "regex"},
        "scope": {"type": "string", "minLength": 1, "format": "css-selector",
                  "default": "article"},
        "min_size": {"type": "integer", "minimum": 0, "default": 100},
    },
}

DEFAULT_PATTERN = (
    r"(?i)(?:(?:photo(?:graph)?s?|image|picture|pic|credit|courtesy|source|foto|bild|quelle|"
    r"crédit|cr[eé]dito|imagen|фото|источник|写真|图片来源|图|사진)\s*(?:by\b|:|/|\||©)"
    r"|©|\(c\)|\bcopyright\b|\bcourtesy of\b|\bgetty\b|\breuters\b|\bassociated press\b"
    r"|\bafp\b|\bap photo\b|\bap\b\s*/|\bdpa\b|\bepa\b|\bshutterstock\b|\bistock\b"
    r"|\balamy\b|\bunsplash\b|\bwikimedia\b|\bcreative commons\b|\bcc[ -]by\b"
    r"|\(\s*[^()/]{2,60}\s*/\s*[^()]{2,60}\)|\b(?:released|handout)\b|\bv[ií]a\s+\w+"
    r"|(?:zeichnung|grafik|illustration|ilustración|abb\.?)\s*:|摄|提供|[|]\s*[^|]{2,60}$"
    r"|(?:^|\s)[\w][\w .'-]{1,40}/[\w][\w .'-]{1,40}$)"
)

_NOT_PHOTO_TOKENS = {"logo", "icon", "icons", "avatar", "avatars", "sprite", "emoji", "spacer",
                     "badge", "gravatar", "placeholder", "blank", "loader", "loading", "spinner",
                     "favicon", "button", "btn", "share", "social", "pixel", "tracking",
                     "1x1", "transparent", "advert", "advertisement", "sponsor"}
_NOT_ARTICLE = re.compile(r"(?:^|[\s_-])(?:author|bio|avatar|related|share|sharing|social|"
                          r"comments?|sidebar|widget|advert|ads?|newsletter|promo|recommended|"
                          r"more-stories|nav|menu|footer|header-logo|site-header|byline)"
                          r"(?:$|[\s_-])", re.IGNORECASE)
_CAPTION_CLASS = re.compile(r"caption|credit|copyright|cutline|source|attribution|"
                            r"photographer", re.IGNORECASE)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_WRAPPERS = {"a", "picture", "span", "div", "p", "noscript", "amp-img", "i-amphtml-sizer"}


def _src(img: Element) -> str:
    for attr in ("data-src", "data-lazy-src", "data-original", "data-orig-file", "data-url",
                 "data-srcset", "srcset", "src"):
        value = (img.get(attr) or "").strip()
        if "srcset" in attr:
            value = _first_candidate(value)
        if value and not value.startswith("data:"):
            return value
    return ""


def _first_candidate(srcset: str) -> str:
    """The first URL of a ``srcset``, parsed as the HTML standard says: a URL is a run of
    non-space characters (image CDNs put commas inside: ``c_fill,w_320/a.jpg``), and the
    commas that separate candidates come after it."""
    match = re.match(r"[\s,]*(\S+)", srcset)
    return match.group(1).rstrip(",") if match else ""


def _size(value: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", value or "")
    return int(match.group(1)) if match else None


def _links_elsewhere(href: str) -> bool:
    """A photo wrapped in a link to another page is a teaser, an ad or a promotion.

    Article photos link to themselves (a lightbox, the full-size file, an attachment page).
    """
    href = href.strip().lower()
    if not href or href.startswith(("#", "javascript:")):
        return False
    path = href.split("#")[0].split("?")[0]
    if path.endswith((".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".tif", ".tiff")):
        return False
    return "/attachment/" not in path and "attachment_id" not in href


_PX_LENGTH = re.compile(r"(?:^|\s)(\d+(?:\.\d+)?)px$")


def _shown_smaller_than(img: Element, limit: int) -> bool:
    """Whether the ``sizes`` attribute says the image is always drawn below ``limit`` pixels
    wide, as responsive avatars and icons are (``sizes="40px"``)."""
    widths = []
    for entry in (img.get("sizes") or "").split(","):
        match = _PX_LENGTH.search(entry.strip())
        if match is None:
            return False  # vw, em, calc(): no fixed size to go by
        widths.append(float(match.group(1)))
    return bool(widths) and max(widths) < limit



def _photo_sized(img: Element) -> bool:
    sizes = [s for s in (_size(img.get("width")), _size(img.get("height"))) if s is not None]
    return bool(sizes) and max(sizes) >= 300


def _is_chrome(node: Element) -> bool:
    """Whether ``node`` is site furniture (navigation, a footer, a share bar, an author box)."""
    if node.tag in {"nav", "footer", "aside", "button"}:
        return True
    marker = f"{node.get('class') or ''} {node.get('id') or ''} {node.get('role') or ''}"
    return bool(marker.strip()) and _NOT_ARTICLE.search(marker) is not None


def _decorative_or_chrome(img: Element, scope: Element, min_size: int,
                          chrome: dict[Element, bool]) -> bool:
    """``chrome`` remembers :func:`_is_chrome` for the containers the page's photos share."""
    if (img.get("role") or "").lower() in {"presentation", "none"}:
        return True
    if (img.get("aria-hidden") or "").lower() == "true":
        return True
    src = _src(img)
    if not src:
        return True
    sizes = [s for s in (_size(img.get("width")), _size(img.get("height"))) if s is not None]
    if (sizes and min(sizes) < min_size) or _shown_smaller_than(img, min_size):
        return True
    name = src.rsplit("/", 1)[-1].split("?")[0].lower()
    if name.endswith((".svg", ".ico")):
        return True
    tokens = set(_TOKEN_SPLIT.split(name)) | set(_TOKEN_SPLIT.split(
        f"{img.get('class') or ''} {img.get('id') or ''}".lower()))
    if tokens & _NOT_PHOTO_TOKENS:
        return True
    for depth, node in enumerate(img.iterancestors()):
        if node is scope:
            break
        if node.tag == "a" and depth < 4 and _links_elsewhere(node.get("href") or ""):
            return True
        known = chrome.get(node)
        if known is None:
            known = chrome[node] = _is_chrome(node)
        if known:
            return True
    return False


def _caption(page: Page, img: Element, scope: Element) -> Element | list[Element] | None:
    """The element(s) that caption ``img``, visible ones only."""
    for node in img.iterancestors():
        if node.tag == "figure":
            parts = [el for el in node.iter("figcaption")]
            parts += [el for el in node.iter() if el.tag != "figcaption" and isinstance(el.tag, str)
                      and _CAPTION_CLASS.search(el.get("class") or "")
                      and not any(p in parts for p in el.iterancestors())]
            visible = [el for el in parts if page.is_visible(el)]
            if visible:
                return visible
            break
        if "wp-caption" in (node.get("class") or "").split():
            parts = [el for el in node.iter() if isinstance(el.tag, str) and
                     {"wp-caption-text", "wp-caption-dd"} & set((el.get("class") or "").split())]
            visible = [el for el in parts if page.is_visible(el)]
            if visible:
                return visible
            break
        if node is scope:
            break
    # A credit element right after the image, or right after the wrappers (a lightbox link,
    # <picture>, a <div> or <p> holding nothing else) around it.
    current: Element = img
    for _ in range(4):
        sibling = current.getnext()
        while sibling is not None and not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
        if sibling is not None:
            if sibling.tag in {"img", "figure", "picture"} or not page.is_visible(sibling):
                return None
            text = page.view(sibling).text.strip()
            marked = _CAPTION_CLASS.search(f"{sibling.get('class') or ''} {sibling.get('id') or ''}")
            return sibling if text and (marked or len(text) <= 250) else None
        if (current.tail or "").strip():
            return None
        parent = current.getparent()
        if parent is None or parent is scope or parent.tag not in _WRAPPERS or \
                (parent.text or "").strip():
            return None
        current = parent
    return None


def check(page: Page, rule: Rule) -> list[Finding]:
    params = rule.params
    credits = list(page.target.photo_credits or params.get("credits", ()))
    wanted = [squash(c) for c in credits]
    pattern = params.get("pattern", DEFAULT_PATTERN)
    min_size = int(params.get("min_size", 100))
    expected = " or ".join(credits) if credits else "a photo credit"
    fix_credit = f'"{credits[0]}"' if credits else "the photographer or agency credit"
    findings: list[Finding] = []
    seen: set[str] = set()
    chrome: dict[Element, bool] = {}
    for scope in page.scope_element(params.get("scope", "article")):
        for img in scope.iter("img", "amp-img"):
            if not page.is_visible(img) or _decorative_or_chrome(img, scope, min_size, chrome):
                continue
            src = page.resolve(_src(img))
            caption = _caption(page, img, scope)
            if caption is None and img.get("alt") == "" and not _photo_sized(img) and \
                    not any(a.tag == "figure" for a in img.iterancestors()):
                continue  # decorative by the HTML definition: empty alt and no caption
            if src in seen:
                continue
            seen.add(src)
            where = page.where(img)
            captions = caption if isinstance(caption, list) else [] if caption is None else [caption]
            text = " ".join(page.view(el).text.strip() for el in captions).strip()
            if not text:
                alt = " ".join(filter(None, [img.get("alt"), img.get("title")]))
                in_alt = alt and (any(w and w in squash(alt) for w in wanted) if wanted else
                                  regex.search(pattern, alt, timeout=REGEX_TIMEOUT))
                message = ("the photo's credit is only in its alt/title attribute, which readers "
                           "do not see" if in_alt else "the photo has no visible caption or credit")
                findings.append(Finding("fail", message, expected=expected,
                                        found=shorten(alt, 200) if alt else None, where=where,
                                        line=img.sourceline,
                                        fix=f"Add {fix_credit} in a visible caption under the "
                                            f"photo {shorten(src, 80)}."))
                continue
            folded = squash(text)
            if wanted:
                ok = any(w and w in folded for w in wanted)
            else:
                try:
                    ok = regex.search(pattern, text, timeout=REGEX_TIMEOUT) is not None
                except TimeoutError:
                    findings.append(Finding("error", "the credit pattern took too long; simplify "
                                                     "it", where=where, line=img.sourceline))
                    continue
            if ok:
                findings.append(Finding("pass", "photo credit found", expected=expected,
                                        found=shorten(text, 200), where=where,
                                        line=img.sourceline))
            else:
                findings.append(Finding(
                    "fail", "the photo's caption does not carry the required credit" if wanted
                    else "the photo's caption carries no recognisable credit",
                    expected=expected, found=shorten(text, 200), where=where, line=img.sourceline,
                    fix=f"Add {fix_credit} to the caption of the photo {shorten(src, 80)}."))
    if not findings:
        findings.append(Finding("skip", "no article photos on this page, so no credit is needed",
                                expected=expected))
    return findings


def describe(rule: Rule) -> str:
    credits = rule.params.get("credits")
    what = (f"one of the credits {', '.join(repr(c) for c in credits)}" if credits else
            "the credit its original carries (the manifest's photo_credits; when none is "
            "listed, any recognisable photo credit)")
    return f"Every article photo must show, in a visible caption, {what}."
