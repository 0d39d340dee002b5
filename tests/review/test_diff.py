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
    result = json.loads(out.stdout)
    assert result["interface"] == [] and result["bump"] == "none"  # unreadable is not removed
    assert [(s["path"], s["reason"], s["base"]) for s in result["skipped"]] == [
        ("actions/setup/action.yml", "not readable", None)]


# ------------------------------------------------------------------ unreadable and oversized files
def _commit_bytes(repo: Repo, message: str, files: dict[str, bytes]) -> str:
    for name, raw in files.items():
        target = repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        repo.git("add", "--", name)
    return repo.commit(message)


PINNED = (b"on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
          b"    steps:\n      - uses: actions/checkout@" + b"1" * 40 + b" # v4.0.0\n        with:\n"
          b"          persist-credentials: false\n")
LATIN1 = PINNED.replace(b"on: push\n", b"# caf\xe9 (latin-1)\non: push\n")


def test_a_committed_workflow_that_is_not_utf8_is_skipped_not_fatal(tmp_path: Path, cli):
    repo = Repo(tmp_path / "repo")
    base = _commit_bytes(repo, "base", {".github/workflows/latin.yml": LATIN1,
                                        ".github/workflows/changes.yml": LATIN1, "actions/setup/action.yml":
                                        BASE_ACTION.encode()})
    head = _commit_bytes(repo, "head", {".github/workflows/changes.yml": PINNED.replace(b"1" * 40, b"2" * 40),
                                        "actions/setup/action.yml": HEAD_ACTION.encode()})
    for args in ((base, head), (base,)):  # two commits, and a commit against the working tree
        out = cli("diff", *args, "--format", "json", cwd=repo.path)
        assert out.returncode == 0, out.stderr
        assert "Traceback" not in out.stderr and "UnicodeEncodeError" not in out.stderr
        result = json.loads(out.stdout)
        skipped = {s["path"]: s for s in result["skipped"]}
        # unchanged and not UTF-8 on both sides; changed but not UTF-8 on one side: neither compared
        assert set(skipped) == {".github/workflows/latin.yml", ".github/workflows/changes.yml"}
        assert skipped[".github/workflows/latin.yml"]["reason"] == "not UTF-8"
        assert skipped[".github/workflows/changes.yml"]["base"].startswith("invalid UTF-8 byte 0xe9")
        assert skipped[".github/workflows/changes.yml"]["head"] is None
        assert result["pins"] == []  # nothing reported as removed, added or changed for them
        assert {c["path"] for c in result["interface"]} == {"actions/setup/action.yml"}  # the rest is compared
        assert ".github/workflows/latin.yml" in out.stderr and "skipped" in out.stderr
    text = cli("diff", base, head, cwd=repo.path).stdout
    assert "- `.github/workflows/latin.yml`: skipped: not UTF-8" in text


def test_a_workflow_whose_name_is_not_utf8_is_compared(tmp_path: Path, cli):
    import os

    repo = Repo(tmp_path / "repo")
    base = repo.commit("base")
    name = b".github/workflows/caf\xe9.yml"
    os.makedirs(repo.path / ".github/workflows")
    with open(os.path.join(os.fsencode(repo.path), name), "wb") as handle:
        handle.write(PINNED)

    def added() -> str:
        out = cli("diff", *args, "--format", "json", cwd=repo.path)
        assert out.returncode == 0, out.stderr
        (pin,) = json.loads(out.stdout)["pins"]
        assert pin["change"] == "added"
        return pin["sites"][0]["path"]

    args: tuple[str, ...] = (base,)  # untracked in the working tree
    assert added() == ".github/workflows/caf\ufffd.yml"
    repo.git("add", "-A")
    args = (base, repo.commit("head"))
    assert added() == ".github/workflows/caf\ufffd.yml"


def test_an_oversized_workflow_is_skipped_on_both_sides_never_removed(tmp_path: Path, cli):
    from ci_tools.gha.source import MAX_FILE_BYTES

    big = PINNED + b"# " + b"x" * (5 * 1024 * 1024) + b"\n"
    repo = Repo(tmp_path / "repo")
    base = _commit_bytes(repo, "base", {".github/workflows/big.yml": big, ".github/workflows/grows.yml": PINNED})
    head = _commit_bytes(repo, "head", {"README.md": b"docs\n",
                                        ".github/workflows/grows.yml": big.replace(b"1" * 40, b"3" * 40)})
    for args in ((base, head), (base,)):
        out = cli("diff", *args, "--format", "json", cwd=repo.path)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["pins"] == [] and result["interface"] == []
        skipped = {s["path"]: s for s in result["skipped"]}
        assert set(skipped) == {".github/workflows/big.yml", ".github/workflows/grows.yml"}
        assert {s["reason"] for s in skipped.values()} == {"too large"}
        assert skipped[".github/workflows/big.yml"]["base"] == skipped[".github/workflows/big.yml"]["head"] == (
            f"{len(big)} bytes, over the {MAX_FILE_BYTES}-byte limit")
        assert skipped[".github/workflows/grows.yml"]["base"] is None
    text = cli("diff", base, head, cwd=repo.path).stdout
    assert "- `.github/workflows/big.yml`: skipped: too large" in text and "removed" not in text
    assert "No pin changed." in text


# ---------------------------------------------------------------------- pins paired by their place
def _workflow(jobs: dict[str, list[str]]) -> str:
    out = "on: push\npermissions: {}\njobs:\n"
    for job, steps in jobs.items():
        out += f"  {job}:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n"
        out += "".join(f"      - {step}\n" for step in steps)
    return out


def _pairs(result: dict) -> set[tuple]:
    return {(p["name"], p["change"], p["old_version"] or p["old"] or "", p["new_version"] or p["new"] or "",
             tuple(f"{s['path']}:{s['job']}:{s['step']}" for s in p["sites"])) for p in result["pins"]}


def _diff(tmp_path: Path, cli, before: str, after: str) -> dict:
    repo = Repo(tmp_path / "repo")
    base = repo.commit("base", {".github/workflows/ci.yml": before})
    head = repo.commit("head", {".github/workflows/ci.yml": after})
    out = cli("diff", base, head, "--format", "json", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


A, B, C, D = "a" * 40, "b" * 40, "c" * 40, "d" * 40


def test_a_tag_moved_to_a_pin_beside_one_pinned_in_place(tmp_path: Path, cli):
    """The issue's history: v4 moved to v4.2.2, v4.1.0 pinned where it stands."""
    result = _diff(tmp_path, cli,
                   _workflow({"build": ["uses: actions/checkout@v4"], "test": ["uses: actions/checkout@v4.1.0"]}),
                   _workflow({"build": [f"uses: actions/checkout@{A} # v4.2.2"],
                              "test": [f"uses: actions/checkout@{B} # v4.1.0"]}))
    assert _pairs(result) == {
        ("actions/checkout", "changed", "v4", "v4.2.2", (".github/workflows/ci.yml:build:#1",)),
        ("actions/checkout", "changed", "v4.1.0", "v4.1.0", (".github/workflows/ci.yml:test:#1",)),
    }


def test_pins_are_paired_by_job_not_by_order(tmp_path: Path, cli):
    result = _diff(tmp_path, cli,
                   _workflow({"build": [f"uses: actions/checkout@{A} # v3.0.0"],
                              "test": [f"uses: actions/checkout@{B} # v4.0.0"]}),
                   _workflow({"build": [f"uses: actions/checkout@{D} # v3.6.0"],
                              "test": [f"uses: actions/checkout@{C} # v4.2.2"]}))
    assert {(old, new) for _, _, old, new, _ in _pairs(result)} == {("v3.0.0", "v3.6.0"), ("v4.0.0", "v4.2.2")}
    link = {p["old_version"]: p["compare"] for p in result["pins"]}
    assert link["v3.0.0"] == f"https://github.com/actions/checkout/compare/{A}...{D}"


def test_reordered_and_inserted_steps_keep_their_pairs(tmp_path: Path, cli):
    """Steps are known by id, then name; inserted steps of other actions move nothing."""
    before = _workflow({"build": [f"name: Check out app\n        uses: actions/checkout@{A} # v3.0.0",
                                  f"name: Check out tools\n        uses: actions/checkout@{B} # v4.0.0",
                                  f"id: py\n        uses: actions/setup-python@{A} # v5.0.0"]})
    after = _workflow({"build": ["run: echo inserted",
                                 f"id: py\n        uses: actions/setup-python@{B} # v5.1.0",
                                 f"name: Check out tools\n        uses: actions/checkout@{C} # v4.2.2",
                                 f"name: Check out app\n        uses: actions/checkout@{D} # v3.6.0"]})
    assert _pairs(_diff(tmp_path, cli, before, after)) == {
        ("actions/checkout", "changed", "v3.0.0", "v3.6.0", (".github/workflows/ci.yml:build:Check out app",)),
        ("actions/checkout", "changed", "v4.0.0", "v4.2.2", (".github/workflows/ci.yml:build:Check out tools",)),
        ("actions/setup-python", "changed", "v5.0.0", "v5.1.0", (".github/workflows/ci.yml:build:py",)),
    }


def test_an_added_step_of_the_same_action_is_an_addition(tmp_path: Path, cli):
    before = _workflow({"build": [f"uses: actions/checkout@{A} # v3.0.0"]})
    after = _workflow({"build": [f"uses: actions/checkout@{C} # v4.2.2", f"uses: actions/checkout@{A} # v3.0.0"]})
    assert _pairs(_diff(tmp_path, cli, before, after)) == {
        ("actions/checkout", "added", "", "v4.2.2", (".github/workflows/ci.yml:build:#1",)),
    }


def test_one_change_at_many_places_is_one_row(tmp_path: Path, cli):
    before = _workflow({"build": [f"uses: actions/checkout@{A} # v3.0.0"], "test": [f"uses: actions/checkout@{A} # v3.0.0"]})
    after = before.replace(A, C).replace("v3.0.0", "v3.6.0")
    result = _diff(tmp_path, cli, before, after)
    assert _pairs(result) == {("actions/checkout", "changed", "v3.0.0", "v3.6.0",
                               (".github/workflows/ci.yml:build:#1", ".github/workflows/ci.yml:test:#1"))}
