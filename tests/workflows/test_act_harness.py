"""The act harness itself (support.act): the ``$/`` translation and the stand-in gate."""

from __future__ import annotations

import pytest
import yaml

from support.act import ServedCI, translate_self_references
from support.act_standins import CATALOGUE, STANDINS, action_yml

SHA = "a" * 40


def test_self_references_become_what_github_resolves_them_to():
    text = "      - uses: $/actions/build-push\n    uses: '$/.github/workflows/release.yml'\n# uses: $/x\n"
    assert translate_self_references(text, SHA) == (
        f"      - uses: org/ci/actions/build-push@{SHA}\n"
        f"    uses: 'org/ci/.github/workflows/release.yml@{SHA}'\n# uses: $/x\n")


def test_the_served_copy_has_no_self_reference_left(act_session):
    served = act_session.act.served
    for path in [*(served.root / ".github" / "workflows").glob("*.yml"), *(served.root / "actions").glob("*/action.yml")]:
        assert "uses: $/" not in path.read_text(), path


def test_a_pinned_action_without_a_stand_in_fails_the_run(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "actions" / "scan").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "w.yml").write_text(
        f"jobs:\n  a:\n    steps:\n      - uses: org/ci/actions/scan@{SHA}\n"
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n")
    (tmp_path / "actions" / "scan" / "action.yml").write_text(
        "runs:\n  using: composite\n  steps:\n"
        "    - uses: aquasecurity/trivy-action@0123456789abcdef0123456789abcdef01234567 # v9.9.9\n")
    served = ServedCI(tmp_path, SHA)
    with pytest.raises(AssertionError, match="aquasecurity/trivy-action@0123456789abcdef0123456789abcdef01234567"):
        served.check_stand_ins(["w.yml"], CATALOGUE)
    served.check_stand_ins(["w.yml"], {**CATALOGUE, "aquasecurity/trivy-action@0123456789abcdef0123456789abcdef01234567": 1})


def test_every_pin_of_this_repository_has_its_stand_in(act_session):
    served = act_session.act.served
    workflows = ("python-ci.yml", "container.yml", "terraform.yml", "release.yml", "canary-deploy.yml", "pr-hygiene.yml")
    served.check_stand_ins(workflows, CATALOGUE)


@pytest.mark.parametrize("standin", STANDINS, ids=lambda s: s.action)
def test_stand_in_metadata_is_a_composite_action_with_the_real_interface(standin, tmp_path):
    doc = yaml.safe_load(action_yml(standin, tmp_path / "client.py"))
    assert doc["runs"]["using"] == "composite"
    assert {k: v["default"] for k, v in doc["inputs"].items()} == standin.inputs
    assert sorted(doc.get("outputs") or {}) == sorted(standin.outputs)
