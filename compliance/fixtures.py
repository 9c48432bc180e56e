"""Fixture pages by convention: ``fixtures/<type>/{pass,fail}/<name>.html`` plus ``<name>.yaml``.

Shared by the test suite and ``compliance rules test`` style tooling: adding a page and its
expected findings adds a test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .engine import evaluate
from .model import Finding, Publisher, Rule, Target
from .page import Page
from .rules import freeze


@dataclass(frozen=True)
class Fixture:
    type: str
    verdict: str
    html: Path
    spec: Mapping[str, Any]

    @property
    def id(self) -> str:
        return f"{self.type}/{self.verdict}/{self.html.stem}"


def discover(root: Path, types: list[str]) -> Iterator[Fixture]:
    for check_type in types:
        for verdict in ("pass", "fail"):
            for html in sorted((root / check_type / verdict).glob("*.html")):
                sidecar = html.with_suffix(".yaml")
                spec = yaml.safe_load(sidecar.read_text("utf-8")) if sidecar.exists() else {}
                yield Fixture(check_type, verdict, html, spec or {})


def defaults(root: Path, check_type: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((root / check_type / "defaults.yaml").read_text("utf-8"))
    return data


def build(fixture: Fixture, base: Mapping[str, Any]) -> tuple[Page, Rule]:
    pub = base["publisher"]
    publisher = Publisher(pub["id"], pub["name"], tuple(pub.get("aliases", ())), pub.get("home"))
    params = {**base["rule"].get("params", {}), **fixture.spec.get("params", {})}
    rule = Rule(base["rule"]["id"], base["rule"]["type"], freeze(params), publisher)
    info = {**base.get("target", {}), **fixture.spec.get("target", {})}
    target = Target(
        partner="fixture", location=str(fixture.html), original_url=info.get("original_url"),
        photo_credits=tuple(info.get("photo_credits") or ()), title=info.get("title"),
        author=info.get("author"),
    )
    page = Page.from_bytes(fixture.html.read_bytes(), target, url=info.get("url"))
    return page, rule


def run(fixture: Fixture, base: Mapping[str, Any]) -> tuple[Finding, ...]:
    page, rule = build(fixture, base)
    return evaluate(page, [rule])
