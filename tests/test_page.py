"""Decoding and the derived page views: encodings, visibility, the article body."""

from __future__ import annotations

import codecs

import pytest

from compliance.errors import PageError
from compliance.model import Target
from compliance.page import Page, decode_html

TARGET = Target("p", "test")
CURLY = "\u201cquoted\u201d caf\u00e9"


def page(markup: str | bytes, **kwargs) -> Page:
    data = markup.encode("utf-8") if isinstance(markup, str) else markup
    return Page.from_bytes(data, TARGET, **kwargs)


@pytest.mark.parametrize(
    ("data", "declared", "encoding", "notes"),
    [
        (codecs.BOM_UTF8 + f"<p>{CURLY}</p>".encode(), None, "utf-8", []),
        (codecs.BOM_UTF16_LE + f"<p>{CURLY}</p>".encode("utf-16-le"), None, "utf-16-le", []),
        (f'<meta charset="windows-1252"><p>{CURLY}</p>'.encode("cp1252"), None, "cp1252", []),
        (f'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>{CURLY}'
         "</p>".encode("cp1252"), None, "cp1252", []),
        (f"<p>{CURLY}</p>".encode("cp1252"), "windows-1252", "cp1252", []),
        # Declared gb2312 but the bytes are UTF-8, as in a real page of the corpus.
        (f'<meta charset="gb2312"><p>{CURLY} \u4e2d\u6587</p>'.encode(), None, "utf-8",
         ["bytes are not valid gb2312 as declared in <meta charset>"]),
        (f'<meta charset="x-unknown"><p>{CURLY}</p>'.encode(), None, "utf-8",
         ["unknown charset 'x-unknown' in <meta charset>; ignored"]),
        # <meta> can only be found in an ASCII-compatible page, so "utf-16" there means UTF-8
        # to browsers; the bytes (even in number) would otherwise decode as UTF-16 noise.
        (f'<meta charset="utf-16"><p>{CURLY}</p>'.encode(), None, "utf-8", []),
    ],
)
def test_decode_honours_bom_declarations_and_survives_wrong_ones(data, declared, encoding, notes):
    text, used, found_notes = decode_html(data, declared)
    assert used == encoding
    assert found_notes == notes
    assert CURLY in text


def test_undeclared_legacy_bytes_are_detected_without_crashing():
    data = ("<html><body><p>" + "Stra\u00dfe und Gr\u00fc\u00dfe aus M\u00fcnchen. " * 20
            + "</p></body></html>").encode("cp1252")
    text, _, notes = decode_html(data)
    assert "M\u00fcnchen" in text
    assert notes and notes[0].startswith("encoding detected as")


@pytest.mark.parametrize(("text", "encoding"), [
    ("<p>café</p>", "cp1252"),
    ("<p>It’s the “best” café in town — really.</p>" * 3, "cp1252"),
    ("<p>Größe und Übermaß – schön</p>", "cp1252"),
    ("<p>Президент России встретился с коллегами на саммите в Осаке.</p>" * 5, "cp1251"),
    ("<p>Zażółć gęślą jaźń. Prezydent spotkał się z premierem w Warszawie.</p>" * 5, "cp1250"),
    ("<p>Cumhurbaşkanı Erdoğan, İstanbul'da gazetecilere açıklama yaptı.</p>" * 5, "cp1254"),
    ("<p>東京で首脳会談が行われました。</p>" * 5, "shift_jis"),
], ids=["french-word", "english-typography", "german", "russian", "polish", "turkish",
        "japanese"])
def test_undeclared_legacy_pages_decode_as_their_browsers_would(text, encoding):
    # RFE/RL's partners write in many scripts; an old page without a charset declaration
    # must still be read right, or its credit line would look missing.
    decoded, _, notes = decode_html(text.encode(encoding))
    assert decoded == text
    assert notes[0].startswith("encoding detected as")


def test_the_sites_country_helps_read_a_short_undeclared_page():
    # Without the hint, chardetng reads these few letters as windows-1250.
    data = "<p>Merhaba dünya, şişe</p>".encode("cp1254")
    text, encoding, _ = decode_html(data, url="https://haber.example.com.tr/a/1.html")
    assert (text, encoding) == ("<p>Merhaba dünya, şişe</p>", "cp1254")
    assert decode_html(data, url="http://[::1")[0] == decode_html(data)[0]


def test_binary_garbage_and_empty_input():
    result = page(bytes(range(256)) * 20)
    assert result.root is not None
    with pytest.raises(PageError):
        page(b"")


def test_xml_declaration_in_utf8_page_is_harmless():
    p = page('<?xml version="1.0" encoding="ISO-8859-1"?><html><body><p>caf\u00e9</p></body></html>')
    assert p.view(p.body).text == "caf\u00e9"


def test_visible_text_skips_hidden_content_and_joins_inline_elements():
    p = page("""<html><head><title>T</title><style>p{}</style></head><body>
      <p>One <b>t</b>wo<br>three<!-- no --></p>
      <div style="display:none">hidden1</div><div hidden>hidden2</div>
      <span class="sr-only">hidden3</span><span class="hidden md:block">shown-on-desktop</span>
      <script>hidden4</script><noscript>hidden5</noscript><template>hidden6</template>
      <img alt="hidden7" src="x.jpg"><p style="opacity: 0;">hidden8</p>
      <p style="position:absolute; left:-9999px">hidden9</p><p style="opacity:0.5">half</p>
      <select><option>hidden10</option></select><dialog>hidden11</dialog>
    </body></html>""")
    assert p.view(p.body).text == "One two three shown-on-desktop half"


def test_article_body_is_the_densest_paragraph_container():
    filler = "<p>" + "Words of the story. " * 5 + "</p>"
    p = page(f"""<html><body><nav><p>Menu item one two three four five six</p></nav>
      <article id="story"><h1>Title</h1><div class="body">{filler * 4}</div>
      <div class="tags"><p>tags and more tags for this story here</p></div></article>
      <aside><p>Sidebar paragraph that is long enough to be scored here.</p></aside>
    </body></html>""")
    assert p.body_content.get("class") == "body"
    assert p.article.get("id") == "story"
    assert p.where(p.body_content) == '//*[@id="story"]/div[1]'


def test_robots_directives_from_meta_and_header():
    p = page('<meta name="robots" content="noindex, NoFollow"><p>x</p>',
             headers={"X-Robots-Tag": "noarchive"})
    assert p.robots == frozenset({"noindex", "nofollow", "noarchive"})


def test_markup_nested_beyond_the_parser_limit_is_noted():
    deep = "<html><body>" + "<div>" * 5000 + "credit" + "</div>" * 5000 + "</body></html>"
    p = page(deep)
    assert p.notes == ("the page nests elements more than 2,048 deep; the parser ignored what "
                       "lies deeper, so findings may miss it",)


def test_every_hiding_class_passes_the_cheap_hint() -> None:
    from compliance.page import _HIDING_CLASS_HINT, _HIDING_CLASSES

    assert [name for name in sorted(_HIDING_CLASSES) if not _HIDING_CLASS_HINT.search(name)] == []
