"""This repository's own workflows under the checks of issue 15: the writes to $GITHUB_ENV of
canary-deploy.yml and test-actions.yml are safe and the release jobs restore no cache; the same
files, edited as a careless or hostile pull request would edit them, are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_tools.core.config import Config
from ci_tools.gha.source import load_text
from ci_tools.lint import engine
from ci_tools.lint.checks import Context

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"


def findings(name: str, text: str, check_id: str) -> list[str]:
    doc = load_text(text, display=f".github/workflows/{name}")
    found = engine.run_checks([doc], Context(root=REPO, config=Config(repository="org/ci")), {check_id})
    return [f"{f.location.line}: {f.message}" for f in found if f.check == check_id]


@pytest.mark.parametrize(("name", "check_id"), [
    ("canary-deploy.yml", "github-env"),
    ("test-actions.yml", "github-env"),
    ("release-self.yml", "cache-poisoning"),
    ("release.yml", "cache-poisoning"),
    ("container.yml", "cache-poisoning"),
])
def test_the_repository_workflow_passes(name: str, check_id: str):
    assert findings(name, (WORKFLOWS / name).read_text(encoding="utf-8"), check_id) == []


def test_a_kubeconfig_path_built_from_an_input_would_be_reported():
    text = (WORKFLOWS / "canary-deploy.yml").read_text(encoding="utf-8")
    hostile = text.replace('config="$RUNNER_TEMP/kubeconfig"', 'config="$RUNNER_TEMP/${{ inputs.rollout }}"')
    assert hostile != text
    assert [line for line in findings("canary-deploy.yml", hostile, "github-env") if "inputs.rollout" in line]


def test_a_pip_cache_in_the_release_notes_job_would_be_reported():
    text = (WORKFLOWS / "release-self.yml").read_text(encoding="utf-8")
    hostile = text.replace('          python-version: "3.11"\n',
                           '          python-version: "3.11"\n          cache: pip\n', 1)
    assert hostile != text
    found = findings("release-self.yml", hostile, "cache-poisoning")
    assert len(found) == 1 and 'job "release-notes"' in found[0] and '"gh release edit"' in found[0]
