"""`ci-tools diff` over real git histories built here: every kind of interface change, breaking and
compatible, with the semver bump it implies, and pin changes with their compare links."""

from __future__ import annotations

import json
from pathlib import Path

from support.gitrepo import Repo

BASE_WORKFLOW = """\
name: deploy
on:
  workflow_call:
    inputs:
      environment: {type: string, required: true}
      replicas: {type: number, default: 2}
      region: {type: string, default: eu-west-1}
      dry-run: {type: boolean, default: false}
      removed-input: {type: string, default: x}
      optional-later: {type: string, required: true}
    secrets:
      token: {required: false}
      gone-secret: {required: false}
      relaxed-secret: {required: true}
    outputs:
      url: {value: "${{ jobs.deploy.outputs.url }}"}
      gone-output: {value: x}
permissions: {}
jobs:
  deploy:
    name: Deploy
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions:
      contents: read
      id-token: write
      packages: write
    steps:
      - uses: actions/checkout@1111111111111111111111111111111111111111 # v4.0.0
        with:
          persist-credentials: false
  smoke:
    name: Smoke test
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo ok
"""

HEAD_WORKFLOW = """\
name: deploy
on:
  workflow_call:
    inputs:
      environment: {type: string, required: true}
      replicas: {type: string, default: "2"}
      region: {type: string, default: us-east-1}
      dry-run: {type: boolean, required: true}
      optional-later: {type: string, required: false}
      new-required: {type: string, required: true}
      new-optional: {type: string, default: y}
    secrets:
      token: {required: true}
      relaxed-secret: {required: false}
      new-secret: {required: true}
      new-optional-secret: {required: false}
    outputs:
      url: {value: "${{ jobs.deploy.outputs.url }}"}
      new-output: {value: y}
permissions: {}
jobs:
  deploy:
    name: Deploy to production
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions:
      contents: write
      id-token: write
      pull-requests: read
    steps:
      - uses: actions/checkout@2222222222222222222222222222222222222222 # v4.1.0
        with:
          persist-credentials: false
      - uses: new-owner/new-action@3333333333333333333333333333333333333333 # v1.0.0
  audit:
    name: Audit
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo ok
"""

BASE_ACTION = """\
name: setup
description: set up
inputs:
  version: {description: v, default: "1.0"}
  cache: {description: c, required: false}
  legacy: {description: l}
outputs:
  path: {description: p, value: x}
runs:
  using: composite
  steps:
    - run: echo
      shell: bash
"""

HEAD_ACTION = """\
name: setup
description: set up
inputs:
  version: {description: v, default: "1.0"}
  cache: {description: c, required: true}
outputs:
  path: {description: p, value: x}
  bin: {description: b, value: y}
runs:
  using: composite
  steps:
    - run: echo
      shell: bash
"""


def _history(tmp_path: Path) -> tuple[Repo, str, str]:
    repo = Repo(tmp_path / "repo")
    base = repo.commit("base", {".github/workflows/deploy.yml": BASE_WORKFLOW,
                                ".github/workflows/gone.yml": "on:\n  workflow_call: {}\njobs: {}\n",
                                "actions/setup/action.yml": BASE_ACTION})
    repo.git("rm", "-q", ".github/workflows/gone.yml")
    head = repo.commit("head", {".github/workflows/deploy.yml": HEAD_WORKFLOW, "actions/setup/action.yml": HEAD_ACTION,
                                "actions/new/action.yml": "name: n\ndescription: d\nruns:\n  using: composite\n"
                                                          "  steps: []\n"})
    return repo, base, head


def _changes(result: dict) -> set[tuple[str, str, str, bool, str]]:
    return {(Path(c["path"]).name if "workflows" in c["path"] else c["path"], c["kind"], c["subject"], c["breaking"],
             c["bump"]) for c in result["interface"]}


def test_every_kind_of_interface_change_is_classified(tmp_path: Path, cli):
    repo, base, head = _history(tmp_path)
    out = cli("diff", base, head, "--format", "json", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["bump"] == "major" and result["breaking"] is True
    assert result["base_commit"] == base and result["head_commit"] == head
    w, a = "deploy.yml", "actions/setup/action.yml"
    assert _changes(result) == {
        # reusable workflow inputs
        (w, "input-removed", "removed-input", True, "major"),
        (w, "input-added", "new-required", True, "major"),
        (w, "input-added", "new-optional", False, "minor"),
        (w, "input-required", "dry-run", True, "major"),
        (w, "input-default", "dry-run", False, "minor"),  # the default went away with `required: true`
        (w, "input-optional", "optional-later", False, "minor"),
        (w, "input-type", "replicas", True, "major"),
        (w, "input-default", "region", False, "minor"),
        # secrets
        (w, "secret-removed", "gone-secret", True, "major"),
        (w, "secret-added", "new-secret", True, "major"),
        (w, "secret-added", "new-optional-secret", False, "minor"),
        (w, "secret-required", "token", True, "major"),
        (w, "secret-optional", "relaxed-secret", False, "minor"),
        # outputs
        (w, "output-removed", "gone-output", True, "major"),
        (w, "output-added", "new-output", False, "minor"),
        # jobs
        (w, "job-renamed", "deploy", True, "major"),
        (w, "job-removed", "smoke", True, "major"),
        (w, "job-added", "audit", False, "minor"),
        # permissions a caller must grant
        (w, "permission-raised", "contents", True, "major"),
        (w, "permission-raised", "pull-requests", True, "major"),
        (w, "permission-lowered", "packages", False, "patch"),
        # whole files
        ("gone.yml", "removed", "", True, "major"),
        ("actions/new/action.yml", "added", "", False, "minor"),
        # composite action
        (a, "input-removed", "legacy", True, "major"),
        (a, "input-required", "cache", True, "major"),
        (a, "output-added", "bin", False, "minor"),
    }


def test_pins_added_removed_and_changed_with_compare_links(tmp_path: Path, cli):
    repo, base, head = _history(tmp_path)
    out = cli("diff", base, head, "--format", "json", cwd=repo.path)
    pins = {(p["name"], p["change"]): p for p in json.loads(out.stdout)["pins"]}
    changed = pins[("actions/checkout", "changed")]
    assert (changed["old_version"], changed["new_version"]) == ("v4.0.0", "v4.1.0")
    assert changed["compare"] == ("https://github.com/actions/checkout/compare/"
                                  f"{'1' * 40}...{'2' * 40}")
    assert pins[("new-owner/new-action", "added")]["new_version"] == "v1.0.0"
    assert set(pins) == {("actions/checkout", "changed"), ("new-owner/new-action", "added")}


def test_markdown_release_notes(tmp_path: Path, cli):
    repo, base, head = _history(tmp_path)
    out = cli("diff", base, head, cwd=repo.path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "## What a caller must act on" in text and "### Breaking changes (major)" in text
    assert "Semver bump these changes imply: **major**" in text
    assert 'required input "new-required" was added; every caller must pass it' in text
    assert f"(https://github.com/actions/checkout/compare/{'1' * 40}...{'2' * 40})" in text


def test_compatible_only_history_implies_minor_and_head_defaults_to_the_working_tree(tmp_path: Path, cli):
    repo = Repo(tmp_path / "repo")
    base = repo.commit("base", {"actions/setup/action.yml": BASE_ACTION})
    # uncommitted change in the working tree: an optional input
    (repo.path / "actions/setup/action.yml").write_text(
        BASE_ACTION.replace("outputs:", "  extra: {description: e, default: on}\noutputs:"), encoding="utf-8")
    out = cli("diff", base, "--format", "json", cwd=repo.path)
    result = json.loads(out.stdout)
    assert result["head"] == "working tree" and result["head_commit"] is None
    assert result["bump"] == "minor" and result["breaking"] is False
    assert [(c["kind"], c["subject"]) for c in result["interface"]] == [("input-added", "extra")]
    # committed: the same result against HEAD
    head = repo.commit("extra", {"actions/setup/action.yml": (repo.path / "actions/setup/action.yml").read_text()})
    again = json.loads(cli("diff", base, "HEAD", "--format", "json", cwd=repo.path).stdout)
    assert again["interface"] == result["interface"] and again["head_commit"] == head


def test_no_change_implies_no_bump(tmp_path: Path, cli):
    repo = Repo(tmp_path / "repo")
    base = repo.commit("base", {"actions/setup/action.yml": BASE_ACTION})
    head = repo.commit("docs", {"README.md": "docs\n"})
    result = json.loads(cli("diff", base, head, "--format", "json", cwd=repo.path).stdout)
    assert result["bump"] == "none" and result["interface"] == [] and result["pins"] == []


def test_unknown_revision_is_a_usage_error(tmp_path: Path, cli):
    repo = Repo(tmp_path / "repo")
    repo.commit("base", {"actions/setup/action.yml": BASE_ACTION})
    out = cli("diff", "no-such-tag", cwd=repo.path)
    assert out.returncode == 2
    assert out.stderr.strip() == 'ci-tools diff: BASE "no-such-tag" is not a commit of the repository at "repo"'
    assert "Traceback" not in out.stderr


def test_broken_yaml_in_a_revision_is_reported_not_fatal(tmp_path: Path, cli):
    repo = Repo(tmp_path / "repo")
    base = repo.commit("base", {"actions/setup/action.yml": BASE_ACTION})
    head = repo.commit("broken", {"actions/setup/action.yml": "name: [unclosed\n"})
    out = cli("diff", base, head, "--format", "json", cwd=repo.path)
    assert out.returncode == 0
    assert "actions/setup/action.yml:" in out.stderr and "[syntax]" in out.stderr
