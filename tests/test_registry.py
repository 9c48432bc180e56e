"""The registry's promises: every check type documents itself, declares its parameters and
ships passing and failing fixture pages."""

from __future__ import annotations

import inspect

import jsonschema
import pytest

from compliance.checks import REGISTRY

from .conftest import FIXTURES


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_check_module_contract(name):
    module = REGISTRY[name]
    assert module.__name__.endswith(f".{name}"), "modules are named after their type"
    doc = inspect.getdoc(module) or ""
    assert doc.startswith(f"{name}:"), "the docstring opens with the type's name"
    assert "Passing example" in doc and "Failing example" in doc
    jsonschema.Draft202012Validator.check_schema(module.PARAMS)
    assert module.PARAMS.get("additionalProperties") is False, "unknown parameters are rejected"
    assert list(inspect.signature(module.check).parameters) == ["page", "rule"]
    assert callable(module.describe)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_check_type_has_fixtures(name):
    for verdict in ("pass", "fail"):
        pages = sorted((FIXTURES / name / verdict).glob("*.html"))
        assert len(pages) >= 8, f"{name} needs at least 8 {verdict} fixtures"
        for page in pages:
            assert page.with_suffix(".yaml").exists(), f"{page} has no expected findings"
