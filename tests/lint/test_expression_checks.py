"""The checks that read an expression's syntax tree, attacked with the shapes a hostile or careless
workflow takes: parentheses, reversed operands, calls inside calls, computed keys, negation."""

from __future__ import annotations

import pytest

from ci_tools.core.config import Config
from ci_tools.gha.source import load_text
from ci_tools.lint.checks import Context, bot_conditions, overprovisioned_secrets, unredacted_secrets, unsound_contains


def _findings(module, expression: str, key: str = "if") -> list[str]:
    """The text each finding of ``module`` points at, for one expression in a step."""
    doc = load_text("on: pull_request_target\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n"
                    f"    steps:\n      - run: echo\n        {key}: |-\n          {expression}\n", display="w.yml")
    found = list(module.check(doc, Context(root=doc.path.parent, config=Config())))
    return [doc.text[f.location.start_offset:f.location.end_offset] for f in found]


@pytest.mark.parametrize(("expression", "flagged"), [
    ("github.actor == 'dependabot[bot]'", ["github.actor == 'dependabot[bot]'"]),
    ("'renovate[bot]' == github.triggering_actor", ["'renovate[bot]' == github.triggering_actor"]),
    ("${{ github.event.sender.login == 'dependabot[bot]' && github.event.pull_request.draft == false }}",
     ["github.event.sender.login == 'dependabot[bot]'"]),
    ("github.actor_id == 49699333", ["github.actor_id == 49699333"]),
    ("github['actor'] == 'dependabot[bot]'", ["github['actor'] == 'dependabot[bot]'"]),
    ("GITHUB.ACTOR == 'dependabot[bot]'", ["GITHUB.ACTOR == 'dependabot[bot]'"]),
    ("contains(fromJSON('[\"dependabot[bot]\", \"renovate[bot]\"]'), github.actor)",
     ["contains(fromJSON('[\"dependabot[bot]\", \"renovate[bot]\"]'), github.actor)"]),
    ("startsWith(github.actor, 'dependabot[bot]')", ["startsWith(github.actor, 'dependabot[bot]')"]),
    ("(github.actor) == 'dependabot[bot]'", ["(github.actor) == 'dependabot[bot]'"]),
    ("!contains(fromJSON('[\"dependabot[bot]\"]'), github.actor)", []),  # excludes bots: no gate
    ("github.actor != 'dependabot[bot]'", []),
    ("github.actor == 'octocat'", []),
    ("github.event.pull_request.user.login == 'dependabot[bot]'", []),
    ("github.actor == 'dependabot[bot]' && github.event.pull_request.user.login == 'dependabot[bot]'", []),
    ("github.actor_id == 'x'", []),
])
def test_bot_conditions(expression: str, flagged: list[str]):
    assert _findings(bot_conditions, expression) == flagged


@pytest.mark.parametrize(("expression", "flagged"), [
    ("contains('refs/heads/main refs/heads/release', github.ref)",
     ["contains('refs/heads/main refs/heads/release', github.ref)"]),
    ("CONTAINS('main dev', github.event.pull_request.base.ref)", ["CONTAINS('main dev', github.event.pull_request.base.ref)"]),
    ("contains('main dev', github.ref_name || 'main')", ["contains('main dev', github.ref_name || 'main')"]),
    ("contains('main dev', (github.ref_name))", ["contains('main dev', (github.ref_name))"]),
    ("github.event_name == 'push' && contains('a b', inputs.env)", ["contains('a b', inputs.env)"]),
    ("contains(fromJSON('[\"main\", \"dev\"]'), github.ref_name)", []),
    ("contains('main dev', 'main')", []),
    ("contains('main dev', format('{0}', github.ref_name))", []),
    ("contains(github.event.head_commit.message, '[skip ci]')", []),
])
def test_unsound_contains(expression: str, flagged: list[str]):
    assert _findings(unsound_contains, expression) == flagged


@pytest.mark.parametrize(("expression", "flagged"), [
    ("${{ fromJSON(secrets.AWS).key_id }}", ["fromJSON(secrets.AWS).key_id"]),
    ("${{ fromJSON(secrets.AWS)['key_id'] }}", ["fromJSON(secrets.AWS)['key_id']"]),
    ("${{ FROMJSON(secrets['AWS']).a.b }}", ["FROMJSON(secrets['AWS']).a"]),
    ("${{ toJSON(fromJSON(secrets.AWS)) }}", ["fromJSON(secrets.AWS)"]),
    ("${{ fromJSON(secrets.AWS) }}", ["fromJSON(secrets.AWS)"]),
    ("${{ fromJSON(inputs.json).key }}", []),
    ("${{ secrets.AWS }}", []),
])
def test_unredacted_secrets(expression: str, flagged: list[str]):
    assert _findings(unredacted_secrets, expression, key="env") == flagged


@pytest.mark.parametrize(("expression", "flagged"), [
    ("${{ toJSON(secrets) }}", ["secrets"]),
    ("${{ secrets[inputs.name] }}", ["secrets[inputs.name]"]),
    ("${{ secrets[format('{0}_TOKEN', matrix.env)] }}", ["secrets[format('{0}_TOKEN', matrix.env)]"]),
    ("${{ (secrets) }}", ["secrets"]),
    ("${{ inputs.x || secrets }}", ["secrets"]),
    ("${{ secrets[secrets.NAME] }}", ["secrets[secrets.NAME]"]),
    ("${{ secrets.NPM_TOKEN }}", []),
    ("${{ secrets['NPM_TOKEN'] }}", []),
    ("${{ github.secrets }}", []),
])
def test_overprovisioned_secrets(expression: str, flagged: list[str]):
    assert _findings(overprovisioned_secrets, expression, key="env") == flagged
