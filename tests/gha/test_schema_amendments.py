"""The amendments of the vendored workflow schema accept what GitHub runs and nothing more, and a
redefined YAML anchor is read as YAML defines it. (The accepted forms are the ok fixtures of
tests/lint/fixtures/schema/ok; each wrong form here sits next to one of them.)"""

from __future__ import annotations

import pytest

from ci_tools.gha import jsonschema as schema
from ci_tools.gha.source import load_text, mapping_get, to_plain

BASE = {"on": "push", "jobs": {"j": {"runs-on": "ubuntu-latest", "steps": [{"run": "x"}]}}}


def workflow(**changes) -> dict:
    doc = {"on": BASE["on"], "jobs": {"j": dict(BASE["jobs"]["j"])}}
    for key, value in changes.items():
        if key == "on":
            doc["on"] = value
        else:
            doc["jobs"]["j"][key.replace("_", "-")] = value
    return doc


@pytest.mark.parametrize(("label", "instance"), [
    ("snapshot version with a letter", workflow(snapshot={"image-name": "i", "version": "2.x"})),
    ("snapshot version with a patch", workflow(snapshot={"image-name": "i", "version": "2.1.3"})),
    ("services as plain text", workflow(services="postgres")),
    ("credentials as plain text", workflow(container={"image": "i", "credentials": "user:pass"})),
    ("an unknown event", workflow(on=["push", "image_versions"])),
    ("an unknown image_version filter", workflow(on={"image_version": {"tags": ["x"]}})),
    ("an empty branch pattern", workflow(on={"push": {"branches": ""}})),
    ("a secret declared as a number", workflow(on={"workflow_call": {"secrets": {"TOKEN": 3}}})),
    ("container as a number", workflow(container=3)),
])
def test_wrong_forms_beside_the_amendments_still_fail(label: str, instance: dict):
    assert not schema.is_valid("workflow", instance), label
    assert not schema.oracle_validator("workflow").is_valid(instance), label


def test_a_redefined_anchor_is_read_and_each_alias_takes_the_latest_definition():
    doc = load_text("a: &x one\nb: *x\nc: &x two\nd: *x\n")
    assert doc.findings == []
    assert to_plain(doc.root) == {"a": "one", "b": "one", "c": "two", "d": "two"}
    assert mapping_get(doc.root, "d") is mapping_get(doc.root, "c")  # the alias is the second definition
    assert mapping_get(doc.root, "c").start_mark.line == 2  # positions survive the slower composer


def test_other_composer_errors_are_still_syntax_findings():
    doc = load_text("a: *undefined\n")
    assert [f.check for f in doc.findings] == ["syntax"]
    assert "undefined alias" in doc.findings[0].message
