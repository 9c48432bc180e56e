"""Manifests (CSV and JSON Lines): good rows become targets, broken rows name file:line field."""

from __future__ import annotations

import json

import pytest

from compliance.errors import ManifestError
from compliance.manifest import read_manifest
from compliance.model import Target

PARTNERS = ["american-military-news"]
ORIGINAL = "https://www.rferl.org/a/x/1.html"


def test_csv_rows_become_targets(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "\ufeffpartner,reprint_url,original_url,photo_credits,title,author,published_at\n"
        f"american-military-news,pages/a.html,{ORIGINAL},(Kremlin/Released)| AP ,T,A,2019-06-28\n"
        f"american-military-news,https://amn.example/x/,{ORIGINAL},,,,\n",
        encoding="utf-8",
    )
    targets = read_manifest(manifest, PARTNERS).targets
    assert targets == [
        Target("american-military-news", str(tmp_path / "pages" / "a.html"), ORIGINAL,
               ("(Kremlin/Released)", "AP"), "T", "A", "2019-06-28", None, f"{manifest}:2"),
        Target("american-military-news", "https://amn.example/x/", ORIGINAL, (), None, None,
               None, None, f"{manifest}:3"),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_spreadsheet_exports_semicolons_tabs_header_case_and_empty_rows(tmp_path, delimiter):
    manifest = tmp_path / "m.csv"
    header = delimiter.join(["Partner", "Reprint URL", "original-url", "Photo_Credits"])
    row = delimiter.join(["american-military-news", "https://amn.example/x/", ORIGINAL,
                          "(Kremlin/Released)"])
    manifest.write_text(f"\ufeff{header}\r\n{row}\r\n{delimiter * 3}\r\n\r\n",
                        encoding="utf-8")
    assert read_manifest(manifest, PARTNERS).targets == [
        Target("american-military-news", "https://amn.example/x/", ORIGINAL,
               ("(Kremlin/Released)",), None, None, None, None, f"{manifest}:2")]


def test_jsonl_rows_accept_lists(tmp_path):
    manifest = tmp_path / "m.jsonl"
    rows = [{"partner": "american-military-news", "reprint_url": "file:///srv/a.html",
             "original_url": ORIGINAL, "photo_credits": ["A/B", "C"]}]
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    (target,) = read_manifest(manifest, PARTNERS).targets
    assert target.location == "file:///srv/a.html"
    assert target.photo_credits == ("A/B", "C")


def test_every_broken_row_is_reported_with_file_line_and_field(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "partner,reprint_url,original_url,expires_at,photo_credit\n"
        f"amn,a.html,{ORIGINAL},,\n"
        f"american-military-news,ftp://x/a.html,{ORIGINAL},,\n"
        "american-military-news,a.html,not a url,,\n"
        f"american-military-news,https://,{ORIGINAL},31/12/2026,\n"
        f"american-military-news,b.html,{ORIGINAL},,,extra\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as caught:
        read_manifest(manifest, PARTNERS)
    assert caught.value.problems == [
        f"{manifest}:2 partner: unknown partner 'amn'; known: american-military-news",
        f"{manifest}:3 reprint_url: 'ftp://x/a.html' is neither an http(s) URL nor a file path",
        f"{manifest}:4 original_url: 'not a url' is not an http(s) URL; give the URL of the "
        "original article",
        f"{manifest}:5 reprint_url: 'https://' is not a valid http(s) URL",
        f"{manifest}:5 expires_at: '31/12/2026' is not an ISO 8601 date (e.g. 2026-01-31 or "
        "2026-01-31T12:00:00Z)",
        f"{manifest}:6: the row has more cells than the header has columns",
    ]


def test_missing_column_and_bad_json(tmp_path):
    csv_manifest = tmp_path / "m.csv"
    csv_manifest.write_text("partner,url\namn,a.html\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        read_manifest(csv_manifest, PARTNERS)
    assert caught.value.problems == [
        f"{csv_manifest}:1: missing columns reprint_url, original_url; the header must name "
        "partner, reprint_url, original_url (found: partner, url)"
    ]
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"partner": "american-military-news"}\n{oops\n[1]\n', encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        read_manifest(jsonl, PARTNERS)
    assert caught.value.problems == [
        f"{jsonl}:1 reprint_url: missing; every row needs partner, reprint_url and original_url",
        f"{jsonl}:1 original_url: missing; every row needs partner, reprint_url and original_url",
        f"{jsonl}:2: not valid JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{jsonl}:3: each line must be a JSON object with the manifest columns",
    ]


def test_unknown_columns_and_duplicates_are_warnings(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "partner,reprint_url,original_url,photo_credit\n"
        f"american-military-news,a.html,{ORIGINAL},X\n"
        f"american-military-news,a.html,{ORIGINAL},X\n",
        encoding="utf-8",
    )
    result = read_manifest(manifest, PARTNERS)
    assert len(result.targets) == 1
    assert result.warnings == [
        f"{manifest}:2 photo_credit: unknown column, ignored (did you mean 'photo_credits'?)",
        f"{manifest}:3 reprint_url: same partner and reprint as line 2; checked once",
    ]
