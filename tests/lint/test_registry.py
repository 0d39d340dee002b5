"""The check registry, the modules of ci_tools.lint.checks, the sections of docs/checks.md and the
fixture folders under tests/lint/fixtures/ name exactly the same checks (and docs/checks.md the other
commands' finding ids too)."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import ci_tools.lint.checks as checks_package
from ci_tools.lint.checks import COMMAND_IDS, ENGINE_IDS, REGISTRY, modules
from ci_tools.lint.reference import sections

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "checks.md"
FIXTURES = REPO / "tests" / "lint" / "fixtures"

# Engine ids with a fixture folder (the others are covered by their own tests: test_suppression.py
# for invalid-ignore, test_actionlint.py for actionlint).
ENGINE_IDS_WITH_FIXTURES = {"syntax"}


def _registry_ids() -> set[str]:
    return {m.ID for m in modules()}


def _documented() -> list[str]:
    return re.findall(r"^## `([a-z0-9-]+)`\s*$", DOCS.read_text(encoding="utf-8"), flags=re.M)


def test_registry_equals_the_modules_of_the_package():
    on_disk = {m.name for m in pkgutil.iter_modules(checks_package.__path__) if not m.name.startswith("_")}
    assert set(REGISTRY) == on_disk
    assert len(REGISTRY) == len(set(REGISTRY))


def test_module_ids_follow_module_names_and_export_the_interface():
    for module in modules():
        assert module.ID == module.__name__.rsplit(".", 1)[1].replace("_", "-")
        assert module.SUMMARY and module.SUMMARY == module.SUMMARY.strip()
        assert module.APPLIES_TO <= {"workflow", "template", "action", "dependabot", "properties", "pre-commit",
                                     "zizmor"}
        assert hasattr(module, "check") or hasattr(module, "check_all")
    ids = _registry_ids()
    assert not ids & set(ENGINE_IDS) and not ids & set(COMMAND_IDS)


def test_documented_sections_equal_the_registered_ids():
    """The checks, the engine's ids and the other commands' finding ids (tests/docs/test_explain.py
    holds each section to the whole template and every id emitted in the source to the registry)."""
    documented = _documented()
    assert len(documented) == len(set(documented)), "an id is documented twice"
    assert set(documented) == _registry_ids() | set(ENGINE_IDS) | set(COMMAND_IDS)
    assert set(sections()) == set(documented)


def test_fixture_folders_equal_the_checks():
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    expected = _registry_ids() | ENGINE_IDS_WITH_FIXTURES
    assert folders == expected


def _module(name: str = "ci_tools.lint.checks.example", **attrs):
    import types

    from ci_tools.core.findings import Severity

    module = types.ModuleType(name)
    defaults = {"ID": "example", "SUMMARY": "an example", "SEVERITY": Severity.WARNING,
                "APPLIES_TO": {"workflow"}, "check": lambda doc, ctx: iter(())}
    for key, value in {**defaults, **attrs}.items():
        if value is not _MISSING:
            setattr(module, key, value)
    return module


_MISSING = object()


def test_every_registered_module_reads_as_a_typed_check():
    from ci_tools.lint.checks import checks

    read = checks()
    assert [c.id for c in read] == [m.ID for m in modules()]
    assert all((c.check is None) != (c.check_all is None) for c in read)
    assert all(c.keep is None or c.check_all is not None for c in read)


def test_a_module_that_is_not_a_check_is_refused_by_name():
    import pytest

    from ci_tools.lint.checks import Check, CheckDefinitionError

    assert Check.of(_module()).id == "example"
    for attrs, words in [
        ({"ID": _MISSING}, "example: ID must be a str, not NoneType"),
        ({"SUMMARY": 3}, "example: SUMMARY must be a str, not int"),
        ({"SEVERITY": "warning"}, "example: SEVERITY must be a Severity, not str"),
        ({"APPLIES_TO": "workflow"}, "example: APPLIES_TO must be a set of document kinds"),
        ({"check": _MISSING}, "define exactly one of check(doc, ctx) and check_all(docs, ctx)"),
        ({"check_all": lambda docs, ctx: iter(())}, "define exactly one of check(doc, ctx) and check_all"),
        ({"check": "not a function"}, "example: check must be a function"),
        ({"keep": lambda doc: True}, "example: keep(doc) goes with check_all(docs, ctx)"),
    ]:
        with pytest.raises(CheckDefinitionError, match=re.escape(words)):
            Check.of(_module(**attrs))
