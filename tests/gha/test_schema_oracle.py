"""jsonschema-rs (the fast path) and the jsonschema package (the oracle) agree on validity, on the
corpus and on positive and negative cases of our own schemas."""

from __future__ import annotations

import pytest

from ci_tools.gha import jsonschema as schema
from ci_tools.gha import source
from support.paths import CORPUS

KIND_TO_SCHEMA = {"workflow": "workflow", "template": "workflow", "action": "action", "dependabot": "dependabot"}


def agree(name: str, instance) -> bool:
    fast = schema.fast_validator(name).is_valid(instance)
    oracle = schema.oracle_validator(name).is_valid(instance)
    assert fast == oracle, (name, instance)
    return fast


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the repository")
def test_validators_agree_on_the_corpus():
    valid = invalid = 0
    for path in sorted(CORPUS.rglob("*.y*ml")):
        doc = source.load(path, root=CORPUS)
        if doc.root is None or doc.kind not in KIND_TO_SCHEMA:
            continue
        if agree(KIND_TO_SCHEMA[doc.kind], doc.data):
            valid += 1
        else:
            invalid += 1
    assert valid > 400 and invalid > 5  # both sides of the comparison were exercised


GOOD_ACTION = {
    "name": "x", "description": "d", "branding": {"icon": "box", "color": "blue"},
    "inputs": {"a": {"description": "an input", "required": False, "default": "1"}},
    "outputs": {"o": {"description": "an output", "value": "${{ steps.s.outputs.o }}"}},
    "runs": {"using": "composite", "steps": [{"run": "echo", "shell": "bash"}, {"uses": "./x"}]},
}


def variant(**changes):
    import copy

    out = copy.deepcopy(GOOD_ACTION)
    for key, value in changes.items():
        if value is None:
            out.pop(key)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("instance,ok", [
    (GOOD_ACTION, True),
    (variant(branding=None), False),
    (variant(description=""), False),
    (variant(inputs={"a": {"required": True}}), False),
    (variant(outputs={"o": {"value": "x"}}), False),
    (variant(runs={"using": "node20", "main": "index.js"}), False),
    (variant(runs={"using": "composite", "steps": [{"run": "echo"}]}), False),
])
def test_org_action_conventions(instance, ok):
    assert agree("org-action", instance) is ok


@pytest.mark.parametrize("instance,ok", [
    ({"name": "n", "description": "d", "iconName": "i", "categories": ["Python"]}, True),
    ({"name": "n", "description": "d", "iconName": "i", "categories": ["Python"], "filePatterns": ["^x$"],
      "creator": "platform"}, True),
    ({"name": "n", "description": "d", "iconName": "i"}, False),
    ({"name": "n", "description": "d", "iconName": "i", "categories": "Python"}, False),
    ({"name": "n", "description": "d", "iconName": "i", "categories": ["x"], "unknown": 1}, False),
    ({"name": "", "description": "d", "iconName": "i", "categories": ["x"]}, False),
])
def test_template_properties(instance, ok):
    assert agree("template-properties", instance) is ok


@pytest.mark.parametrize("instance,ok", [
    ({}, True),
    ({"repository": "org/ci", "allowed-owners": ["actions"], "checks": {"missing-timeout": {"severity": "error"}}}, True),
    ({"repository": "not a slug"}, False),
    ({"checks": {"missing-timeout": {"severity": "fatal"}}}, False),
    ({"unknown-key": 1}, False),
])
def test_config_schema(instance, ok):
    assert agree("config", instance) is ok


def test_oneof_failures_get_the_deepest_readable_message():
    doc = source.load_text("on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix: 3\n    steps: []\n")
    errors = schema.validate("workflow", doc.data)
    assert errors and errors[0].path[:3] == ("jobs", "a", "strategy")
    assert "{" not in errors[0].message  # no dump of the whole job
