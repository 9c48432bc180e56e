"""Decode and parse a page once, and derive the views every check shares.

A :class:`Page` is built once per target. The derived views (what a reader can see, where the
article is, the page's links) are computed on first use and memoised, so a rule set of ten rules
walks the tree once, not ten times. Checks read these views; they never change them.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate
from typing import Any, TypeAlias
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector

from .errors import PageError
from .model import Target
from .text import canon

# lxml ships no type information; an element is an lxml ``_Element``.
Element: TypeAlias = Any

# ---------------------------------------------------------------------------------------------
# Decoding

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        found = codecs.lookup(name.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    # Browsers read these labels as their supersets (WHATWG Encoding Standard).
    return {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252", "gb2312": "gb18030",
            "gbk": "gb18030"}.get(found, found)


def sniff_meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _declarations(data: bytes, declared: str | None) -> list[tuple[str, str, str | None]]:
    """(source, label, codec) of each charset label present, the transport's first; the codec
    is None for a label Python does not know."""
    found: list[tuple[str, str, str | None]] = []
    for source, label in (("HTTP header", declared), ("<meta charset>", sniff_meta_charset(data))):
        if not label:
            continue
        codec = _codec(label)
        if codec is not None and source == "<meta charset>" and codec.startswith("utf-16"):
            # A page that could be read far enough to find its <meta> is not UTF-16: browsers
            # read such a page as UTF-8 (WHATWG's prescan), and so do we.
            codec = "utf-8"
        found.append((source, label, codec))
    return found


def decode_html(data: bytes, declared: str | None = None,
                url: str | None = None) -> tuple[str, str, list[str]]:
    """Bytes to text: BOM, then the transport's charset, then ``<meta charset>``, then detection.

    Returns the text, the encoding used and notes on anything odd (a wrong declaration, an
    undecodable byte). A declaration that does not fit the bytes never raises.
    """
    notes: list[str] = []
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(name, errors="replace"), name, notes
    for source, label, codec in _declarations(data, declared):
        if codec is None:
            notes.append(f"unknown charset {label!r} in {source}; ignored")
            continue
        try:
            return data.decode(codec), codec, notes
        except UnicodeDecodeError:
            notes.append(f"bytes are not valid {label} as declared in {source}")
            break
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError:
        pass
    # Only pages without a usable declaration get here. Firefox's detector (chardetng) first:
    # it tells windows-1251 from KOI8-R and windows-1252 from its neighbours where
    # charset-normalizer guesses wrong, and it never answers UTF-8, which failed above.
    with contextlib.suppress(ImportError):
        from chardetng_py import detect

        guessed = _codec(detect(data[:200_000], allow_utf8=False, tld=_tld(url)))
        if guessed is not None:
            notes.append(f"encoding detected as {guessed}")
            return data.decode(guessed, errors="replace"), guessed, notes
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        notes.append(f"encoding detected as {best.encoding}")
        return data.decode(best.encoding, errors="replace"), best.encoding, notes
    notes.append("encoding unknown; undecodable bytes replaced")
    return data.decode("cp1252", errors="replace"), "cp1252", notes


class _NotUtf8(Exception):
    """The bytes were parsed as UTF-8 on trust, and the parser found they are not."""


# libxml2 reports undecodable input under either name, depending on its version.
_ENCODING_ERRORS = {"ERR_INVALID_ENCODING", "ERR_INVALID_CHAR"}


def _tld(url: str | None) -> bytes | None:
    """The last label of ``url``'s host, as chardetng takes it: a hint at the page's language
    (``tr`` makes windows-1254 likelier than windows-1250 for a short text)."""
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:  # a malformed URL gives no hint, and must not stop the decoding
        return None
    label = host.rsplit(".", 1)[-1] if host and "." in host else ""
    return label.encode() if label.isascii() and label.isalpha() else None


def parse_html(data: bytes, *, trusted_utf8: bool = False) -> tuple[Element, list[str]]:
    """Parse UTF-8 bytes; return the root and notes on content the parser had to drop.

    A plain etree parser: no per-element class lookup on the hot path. ``huge_tree`` lets
    deeply nested real pages through (2,048 levels instead of 256); deeper hostile markup is
    cut there, and the note says so rather than leaving a silent gap. With ``trusted_utf8``
    the bytes were not checked beforehand, and :class:`_NotUtf8` says they should have been.
    """
    # No ID table (collect_ids): nothing looks elements up by id() and building it costs 5 %.
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True, default_doctype=False,
                              collect_ids=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        if trusted_utf8:
            raise _NotUtf8 from exc
        raise PageError(f"cannot parse HTML: {exc}") from exc
    errors = {e.type_name for e in parser.error_log}
    if trusted_utf8 and errors & _ENCODING_ERRORS:
        raise _NotUtf8
    if root is None:
        raise PageError("no HTML content to parse")
    notes = []
    if "ERR_RESOURCE_LIMIT" in errors:
        notes.append("the page nests elements more than 2,048 deep; the parser ignored what "
                     "lies deeper, so findings may miss it")
    return root, notes


def _declares_only_utf8(data: bytes, declared: str | None) -> bool:
    """Whether :func:`decode_html` would read ``data`` as UTF-8 without a note: no BOM but
    UTF-8's, and every charset label present (transport, ``<meta>``) names UTF-8."""
    if any(data.startswith(bom) for bom, name in _BOMS if name != "utf-8"):
        return False
    return all(codec == "utf-8" for _, _, codec in _declarations(data, declared))


# ---------------------------------------------------------------------------------------------
# Visibility

# Subtrees a reader never sees as page text. Their descendants (title and meta in head,
# option in select) need no entry of their own: visibility looks at ancestors.
_NEVER_SHOWN = ("script", "style", "template", "noscript", "head", "iframe", "object", "embed",
                "svg", "math", "select", "textarea", "datalist")
_HIDING_STYLE = re.compile(
    r"""display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|(?<![-\w])opacity\s*:\s*0*(?:\.0*)?\s*(?:;|$|!)
    |font-size\s*:\s*0+(?:px|em|rem|pt|%)?\s*(?:;|$|!)
    |(?:text-indent|left|top|margin-left)\s*:\s*-\s*\d{4,}(?:\.\d+)?(?:px|em|rem)
    |clip\s*:\s*rect\(\s*0(?:px)?[\s,]+0(?:px)?[\s,]+0(?:px)?[\s,]+0(?:px)?\s*\)""",
    re.IGNORECASE | re.VERBOSE,
)
# Utility classes that every major CSS framework and the WordPress core define as invisible.
_HIDING_CLASSES = {"sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text",
                   "element-invisible", "hidden", "d-none", "invisible", "hide", "is-hidden",
                   "u-hidden", "hidden-xs-up", "offscreen", "sr-only-focusable"}
_NEVER_SHOWN_SET = frozenset(_NEVER_SHOWN)


def _hides(el: Element) -> bool:
    """Whether ``el`` itself hides its subtree (by tag, attribute, inline style or class)."""
    tag = el.tag
    if tag in _NEVER_SHOWN_SET:
        return True
    get = el.get
    if get("hidden") is not None:
        return True
    style = get("style")
    if style and _HIDING_STYLE.search(style):
        return True
    klass = get("class")
    if klass and _class_hides(klass):
        return True
    return (tag == "dialog" and get("open") is None) or (tag == "input" and
                                                          get("type") == "hidden")


def _marks_body(el: Element) -> bool:
    return el.get("itemprop") == "articleBody" or \
        "entry-content" in (el.get("class") or "").split()


_MARKED_BODY = etree.XPath("//*[@itemprop='articleBody'] | //*[contains(@class, 'entry-content')]")


# Every hiding class name contains one of these: most class attributes are ruled out by one
# search instead of a split into tokens.
_HIDING_CLASS_HINT = re.compile("hid|sr-only|screen-reader|invisible|d-none|offscreen")


# Pages repeat the same few hundred class attributes; the answer for each is remembered.
@lru_cache(maxsize=8192)
def _class_hides(value: str) -> bool:
    if not _HIDING_CLASS_HINT.search(value):
        return False
    tokens = value.split()
    if _HIDING_CLASSES.isdisjoint(tokens):
        return False
    # "hidden md:block" (Tailwind) or "d-none d-md-block" (Bootstrap) show on larger screens.
    return not any(":" in t or (t.startswith("d-") and t.count("-") >= 2) for t in tokens)


# ---------------------------------------------------------------------------------------------
# Text views

_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
           "h6", "td", "th", "tr", "table", "thead", "tbody", "tfoot", "caption", "section",
           "article", "header", "footer", "aside", "nav", "main", "blockquote", "figure",
           "figcaption", "pre", "hr", "address", "form", "fieldset", "legend", "details",
           "summary", "body", "html", "img", "picture", "video", "audio", "center", "label"}


@dataclass(frozen=True)
class TextView:
    """The text of a scope as one normalised string, with a map back to source elements."""

    text: str
    starts: tuple[int, ...]
    owners: tuple[Element, ...]

    @cached_property
    def folded(self) -> str:
        """The text case-folded, for quick "is this word here at all?" tests."""
        return self.text.casefold()

    def element_at(self, offset: int) -> Element | None:
        index = bisect_right(self.starts, offset) - 1
        return self.owners[index] if index >= 0 and self.owners else None

    def element_spanning(self, start: int, end: int) -> Element | None:
        """The innermost element that holds all of ``text[start:end]``."""
        first = self.element_at(start)
        last = self.element_at(max(start, end - 1))
        if first is None or last is None or first is last:
            return first
        ancestors = {id(a) for a in (last, *last.iterancestors())}
        for node in (first, *first.iterancestors()):
            if id(node) in ancestors:
                return node
        return first

    @classmethod
    def build(cls, chunks: Iterable[tuple[Element, str]],
              normalise: Callable[[str], str]) -> TextView:
        chunks = list(chunks)
        if not chunks:
            return cls("", (), ())
        # One normalise call for the whole scope: NUL never occurs in parsed text, so it marks
        # the chunk boundaries through NFKC and the white-space collapse. A chunk that starts
        # with a space after one that ended with a space loses it, as does a leading one.
        # Chunks left empty keep their slot; ``element_at`` never lands on them.
        owners, raws = zip(*chunks, strict=True)
        pieces = normalise("\x00".join(raws)).split("\x00")
        ends_in_space = True
        for index, piece in enumerate(pieces):
            if ends_in_space and piece[:1] == " ":
                piece = pieces[index] = piece[1:]
            if piece:
                ends_in_space = piece[-1] == " "
        starts = tuple(accumulate(map(len, pieces[:-1]), initial=0))
        return cls("".join(pieces).rstrip(" "), starts, owners)



# ---------------------------------------------------------------------------------------------
# The page

def _string_value(el: Element) -> str:
    """All the text inside ``el`` (XPath's string value): the text serialiser is the fastest
    way lxml offers to get it, twice as fast as evaluating ``string()``."""
    return str(etree.tostring(el, method="text", encoding="unicode", with_tail=False))


@lru_cache(maxsize=256)
def _selector(css: str) -> CSSSelector:
    return CSSSelector(css, translator="html")



@dataclass
class Page:
    """One parsed document and what is known about it. Treat as read-only."""

    root: Element
    target: Target
    url: str | None = None
    encoding: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    raw: bytes = b""
    """The bytes as received, for explaining failures (never for judging)."""

    @classmethod
    def from_bytes(cls, data: bytes, target: Target, url: str | None = None,
                   headers: Mapping[str, str] | None = None,
                   declared_charset: str | None = None) -> Page:
        if _declares_only_utf8(data, declared_charset):
            # Nearly every page: let the parser find out whether the bytes are the UTF-8 they
            # claim to be, rather than decoding the whole page once more only to check.
            try:
                root, parse_notes = parse_html(
                    data[3:] if data.startswith(codecs.BOM_UTF8) else data, trusted_utf8=True)
            except _NotUtf8:
                pass
            else:
                page = cls(root, target, url, "utf-8", dict(headers or {}), tuple(parse_notes))
                page.raw = data
                return page
        text, encoding, notes = decode_html(data, declared_charset, url)
        if encoding == "utf-8" and not notes:
            utf8 = data[3:] if data.startswith(codecs.BOM_UTF8) else data
        else:
            utf8 = text.encode("utf-8", errors="replace")
        root, parse_notes = parse_html(utf8)
        page = cls(root, target, url, encoding, dict(headers or {}), (*notes, *parse_notes))
        page.raw = data
        return page

    @cached_property
    def source_lower(self) -> bytes:
        """The page's bytes in ASCII lower case: a cheap "is this word anywhere?" test."""
        return self.raw.lower()

    # -- structure -----------------------------------------------------------------------------

    @cached_property
    def tree(self) -> etree._ElementTree:
        return self.root.getroottree()

    @cached_property
    def body(self) -> Element:
        found = self.root.find("body")
        return found if found is not None else self.root

    @cached_property
    def _index(self) -> dict[str, list[Element]]:
        """Links, paragraphs, ``<base>`` and ``<meta>`` in document order, from one pass: on a
        large page each pass over the tree costs as much as the lookups it feeds."""
        found: dict[str, list[Element]] = {"a": [], "base": [], "meta": [], "p": []}
        for el in self.root.iter("a", "area", "base", "meta", "p"):
            found["a" if el.tag == "area" else el.tag].append(el)
        return found

    def links(self, scope: Element) -> list[Element]:
        """The ``<a>`` and ``<area>`` elements in ``scope``, in document order."""
        if scope is self.body:
            return self._index["a"]
        return list(scope.iter("a", "area"))

    @cached_property
    def base_url(self) -> str | None:
        for base in self._index["base"]:
            href = (base.get("href") or "").strip()
            if href:
                try:
                    return urljoin(self.url or "", href)
                except ValueError:  # "http://[::1": browsers fall back to the page's own URL
                    break
        return self.url

    def resolve(self, href: str) -> str:
        """``href`` made absolute; one that cannot be parsed as a URL is returned as it is
        (a browser could not follow it either)."""
        try:
            return urljoin(self.base_url or "", href.strip())
        except ValueError:
            return href.strip()

    @cached_property
    def robots(self) -> frozenset[str]:
        """Robots directives from ``<meta name=robots>`` and the X-Robots-Tag header."""
        values: list[str] = []
        for meta in self._index["meta"]:
            if (meta.get("name") or "").strip().lower() in {"robots", "googlebot"}:
                values.append(meta.get("content") or "")
        for key, value in self.headers.items():
            if key.lower() == "x-robots-tag":
                values.append(value)
        return frozenset(
            part.strip().lower() for value in values for part in value.split(",") if part.strip()
        )

    # -- visibility ----------------------------------------------------------------------------

    @cached_property
    def _visible(self) -> dict[Element, bool]:
        return {}

    def is_visible(self, el: Element) -> bool:
        """Whether a reader can see ``el``: neither it nor an ancestor hides itself.

        Answers are remembered for every element on the way up, so asking about many photos
        or links under the same containers walks each container once.
        """
        memo = self._visible
        chain: list[Element] = []
        node = el
        result = True
        while node is not None:
            known = memo.get(node)
            if known is not None:
                result = known
                break
            chain.append(node)
            if _hides(node):
                result = False
                break
            node = node.getparent()
        for seen in chain:
            memo[seen] = result
        return result

    def hidden_reason(self, el: Element) -> str | None:
        """Why ``el`` is invisible, in words, or None if it is visible."""
        for node in (el, *el.iterancestors()):
            if not _hides(node):
                continue
            tag = node.tag if isinstance(node.tag, str) else "comment"
            if tag in _NEVER_SHOWN or tag == "dialog":
                return f"inside <{tag}>"
            if node.get("hidden") is not None:
                return f"inside <{tag}> with the hidden attribute"
            match = _HIDING_STYLE.search(node.get("style") or "")
            if match:
                return f"inside <{tag}> styled {match.group(0).strip()!r}"
            return f"inside <{tag} class={node.get('class')!r}> (a hiding class)"
        return None

    def chunks(self, scope: Element, visible_only: bool = True) -> list[tuple[Element, str]]:
        """Text pieces of ``scope`` in reading order, each with the element that holds it."""
        # The hottest loop of a check run: lxml builds a new string on every ``.tag``,
        # ``.text`` and ``.tail`` access, so each is read once where it can be, and the open
        # elements (and whether each is a block) are kept on a stack instead of asked for again.
        out: list[tuple[Element, str]] = []
        append = out.append

        def gap(owner: Element) -> None:
            # Block boundaries and white-space-only text (most text nodes of real markup) all
            # read as one space: a chunk only when the text so far does not end in one.
            if out and not out[-1][1][-1].isspace():
                append((owner, " "))

        def add(owner: Element, text: str | None) -> None:
            if text:
                if text.isspace():
                    gap(owner)
                else:
                    append((owner, text))

        blocks = _BLOCKS
        opened: list[Element] = []
        is_block: list[bool] = []
        walker = etree.iterwalk(scope, events=("start", "end", "comment", "pi"))
        for event, el in walker:
            if event == "start":
                block = el.tag in blocks
                opened.append(el)
                is_block.append(block)
                if visible_only and _hides(el):
                    walker.skip_subtree()
                    continue
                if block:
                    gap(el)
                if not visible_only:
                    for attr in ("alt", "title", "content", "aria-label"):
                        value = el.get(attr)
                        if value:
                            append((el, f" {value} "))
                add(el, el.text)
            elif event == "end":
                opened.pop()
                if is_block.pop():
                    gap(el)
                if opened:  # the scope's own tail is outside it
                    add(opened[-1], el.tail)
            else:  # comments and processing instructions
                owner = opened[-1] if opened else scope
                if not visible_only and el.text:
                    append((owner, " " + el.text + " "))
                add(owner, el.tail)
        return out

    def view(self, scope: Element) -> TextView:
        """The visible text of ``scope`` in :func:`canon` form; memoised per scope element."""
        found = self._views.get(scope)
        if found is None:
            found = self._views[scope] = TextView.build(self.chunks(scope), canon)
        return found

    def all_text_view(self, scope: Element) -> TextView:
        """All text including hidden parts, comments and alt text: only for explaining failures."""
        return TextView.build(self.chunks(scope, visible_only=False), canon)

    @cached_property
    def _views(self) -> dict[Element, TextView]:
        return {}

    # -- the article ---------------------------------------------------------------------------

    @cached_property
    def body_content(self) -> Element:
        """The element that holds the article's paragraphs (densest visible ``<p>`` text)."""
        scores: dict[Element, int] = {}
        for p in self._index["p"]:
            parent = p.getparent()
            if parent is None:
                continue
            length = len(_string_value(p).strip())
            if length >= 25:
                scores[parent] = scores.get(parent, 0) + length
        # Visibility is costly to establish, so test candidates from the best score down.
        best = next((el for el, _ in sorted(scores.items(), key=lambda item: -item[1])
                     if self.is_visible(el)), None)
        if best is not None:
            # A container the CMS marks as the article body wins over the bare paragraphs'
            # parent (it also holds the credit lines and photos set between paragraphs).
            marked = [node for node in (best, *best.iterancestors()) if _marks_body(node)]
            return marked[-1] if marked else best
        for el in _MARKED_BODY(self.root):
            if _marks_body(el) and self.is_visible(el):
                return el
        for xpath in (".//article", ".//main", ".//*[@role='main']"):
            matches = self.body.xpath(xpath)
            if matches:
                return matches[0]
        return self.body

    @cached_property
    def article(self) -> Element:
        """The article as a whole: headline, photos, body and credits, without the site around it."""
        content = self.body_content
        for node in (content, *content.iterancestors()):
            if node.tag == "article":
                return node
            itemtype = node.get("itemtype") or ""
            if itemtype.endswith(("Article", "BlogPosting", "Report")):
                return node
            if node.tag in {"main", "body"}:
                return node
        return content

    def scope_element(self, scope: str) -> list[Element]:
        """Elements named by a rule's ``scope``: ``article``, ``body``, ``page`` or a CSS selector."""
        if scope == "article":
            return [self.article]
        if scope == "body":
            return [self.body_content]
        if scope == "page":
            return [self.body]
        return list(_selector(scope)(self.root))

    # -- reporting helpers ---------------------------------------------------------------------

    def where(self, el: Element) -> str:
        """A short XPath for ``el``, anchored at its nearest ancestor with an id."""
        path = self.tree.getpath(el)
        for node in (el, *el.iterancestors()):
            ident = node.get("id")
            if ident and '"' not in ident and node.tag != "html":
                base = self.tree.getpath(node)
                return f'//*[@id="{ident}"]{path[len(base):]}'
        return path
