"""Every fixture page, discovered by convention, gives exactly the findings written beside it."""

from __future__ import annotations

import pytest

from compliance.checks import REGISTRY
from compliance.fixtures import defaults, discover, run
from compliance.rules import Document, schema_problems

from .conftest import FIXTURES

FIXTURE_LIST = list(discover(FIXTURES, sorted(REGISTRY)))


@pytest.mark.parametrize("fixture", FIXTURE_LIST, ids=[f.id for f in FIXTURE_LIST])
def test_fixture_page(fixture):
    base = defaults(FIXTURES, fixture.type)
    params = {**base["rule"].get("params", {}), **fixture.spec.get("params", {})}
    problems = schema_problems(Document(fixture.html.with_suffix(".yaml"), params), params,
                               REGISTRY[fixture.type].PARAMS)
    assert problems == [], "the fixture's rule parameters must themselves be valid"

    findings = run(fixture, base)
    expected = fixture.spec["expect"]
    actual = [{"status": f.status, "where": f.where, "found": f.found} for f in findings]
    wanted = [{"status": e["status"], "where": e.get("where"), "found": e.get("found")}
              for e in expected]
    assert actual == wanted
    for finding, item in zip(findings, expected, strict=True):
        assert item.get("message", "") in finding.message
        assert finding.rule_id == base["rule"]["id"] and finding.type == fixture.type
        if finding.status == "fail":
            assert finding.fix, "every failure says how to fix it"
    statuses = {f.status for f in findings}
    if fixture.verdict == "pass":
        assert statuses <= {"pass", "skip"}
    else:
        assert statuses & {"fail", "error", "needs-review"}
