"""`ci-tools report` offline: the inventory of a small repository in every format."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.gitrepo import Repo

CHECKOUT = "a" * 40
WORKFLOW = f"""\
name: ci
on: push
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    container: python:3.12@sha256:{"0" * 64}
    services:
      db: postgres:16
    steps:
      - uses: actions/checkout@{CHECKOUT} # v4.2.2
      - uses: $/actions/setup
      - uses: tj-actions/changed-files@v45
  call:
    uses: our-org/shared/.github/workflows/deploy.yml@{"b" * 40} # v2.0.0
"""
SETUP = f"""\
name: setup
description: set up
runs:
  using: composite
  steps:
    - uses: actions/checkout@{CHECKOUT} # v4.2.2
    - uses: other/tool@v1
"""


def _repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.commit("files", {".github/workflows/ci.yml": WORKFLOW, "actions/setup/action.yml": SETUP,
                          ".github/ci-tools.toml": 'repository = "our-org/ci"\norganisation-owners = ["our-org"]\n'})
    return repo


def test_json_inventory(tmp_path: Path, cli):
    repo = _repo(tmp_path)
    out = cli("report", "--format", "json", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["version"] == 1 and data["online"] is False
    deps = {(d["name"], d["ref"][:12]): d for d in data["dependencies"]}
    checkout = deps[("actions/checkout", CHECKOUT[:12])]
    assert checkout["sha"] == CHECKOUT and checkout["version"] == "v4.2.2" and checkout["party"] == "third-party"
    assert [(u["path"], u["line"]) for u in checkout["uses"]] == [(".github/workflows/ci.yml", 12),
                                                                  ("actions/setup/action.yml", 6)]
    shared = deps[("our-org/shared/.github/workflows/deploy.yml", "b" * 12)]
    assert shared["kind"] == "reusable-workflow" and shared["party"] == "first-party"
    assert deps[("tj-actions/changed-files", "v45")]["sha"] is None
    assert deps[("other/tool", "v1")]["uses"][0]["path"] == "actions/setup/action.yml"
    images = {d["name"]: d for d in data["dependencies"] if d["kind"] == "image"}
    assert images["python"]["sha"] == "sha256:" + "0" * 64 and images["python"]["ref"] == "3.12"
    assert images["postgres"]["sha"] is None and images["postgres"]["ref"] == "16"
    edges = {tuple(e) for e in data["graph"]["edges"]}
    assert ("file:.github/workflows/ci.yml", "local:actions/setup") in edges
    assert ("local:actions/setup", "action:other/tool") in edges  # what our own action uses, offline
    assert data["graph"]["transitive"] == []
    assert [f["check"] for f in data["findings"]] == ["known-compromised"]


def test_first_party_owners_are_configurable_for_the_report(tmp_path: Path, cli):
    repo = _repo(tmp_path)
    (repo.path / ".github" / "ci-tools.toml").write_text(
        '[report]\norganisation-owners = ["actions"]\n', encoding="utf-8")
    data = json.loads(cli("report", "--format", "json", cwd=repo.path).stdout)
    party = {d["name"]: d["party"] for d in data["dependencies"]}
    assert party["actions/checkout"] == "first-party"
    assert party["our-org/shared/.github/workflows/deploy.yml"] == "third-party"


def test_markdown_has_tables_and_a_mermaid_graph(tmp_path: Path, cli):
    repo = _repo(tmp_path)
    out = cli("report", cwd=repo.path)
    text = out.stdout
    assert text.startswith("# Dependency report\n")
    assert "| `actions/checkout` | action | third-party | `aaaaaaaaaaaa` | v4.2.2 |" in text
    assert "`.github/workflows/ci.yml:12`<br>`actions/setup/action.yml:6`" in text
    graph = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    nodes = dict(re.findall(r"^  (n\d+)[\[(]\"([^\"]+)\"[\])]$", graph, re.M))
    edges = {(nodes[a], nodes[b]) for a, b in re.findall(r"^  (n\d+) --> (n\d+)$", graph, re.M)}
    assert (".github/workflows/ci.yml", "$/actions/setup") in edges
    assert ("$/actions/setup", "actions/checkout") in edges and ("$/actions/setup", "other/tool") in edges
    assert "known-compromised" in text


def test_text_and_sarif(tmp_path: Path, cli):
    repo = _repo(tmp_path)
    text = cli("report", "--format", "text", cwd=repo.path).stdout
    assert f"actions/checkout@{CHECKOUT[:12]} (v4.2.2) action third-party\n  .github/workflows/ci.yml:12\n" in text
    sarif = json.loads(cli("report", "--format", "sarif", cwd=repo.path).stdout)
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["dependency", "known-compromised"]
    notes = [r for r in run["results"] if r["ruleId"] == "dependency"]
    assert len(notes) == sum(1 for line in text.splitlines() if line.startswith("  "))
    assert all(r["ruleIndex"] < len(run["tool"]["driver"]["rules"]) for r in run["results"])
    # the rule's text is the check's summary and its section of docs/checks.md, not the bare id
    rule = run["tool"]["driver"]["rules"][1]
    assert "compromise" in rule["shortDescription"]["text"] and rule["shortDescription"]["text"] != "known-compromised"
    assert rule["help"]["text"].startswith("## `known-compromised`\n")


def test_output_file_is_written_atomically(tmp_path: Path, cli):
    repo = _repo(tmp_path)
    target = tmp_path / "report.md"
    out = cli("report", "--output", str(target), cwd=repo.path)
    assert out.returncode == 0 and out.stdout == ""
    assert target.read_text(encoding="utf-8").startswith("# Dependency report")


def test_bad_configuration_is_a_usage_error(tmp_path: Path, cli):
    repo = _repo(tmp_path)
    (repo.path / ".github" / "ci-tools.toml").write_text("repository = [", encoding="utf-8")
    out = cli("report", cwd=repo.path)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def _graph(text: str) -> set[tuple[str, str]]:
    graph = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    nodes = dict(re.findall(r"^  (n\d+)[\[(]\"([^\"]+)\"[\])]$", graph, re.M))
    return {(nodes[a], nodes[b]) for a, b in re.findall(r"^  (n\d+) --> (n\d+)$", graph, re.M)}


def test_the_graph_shows_a_service_s_own_actions_as_written(tmp_path: Path, cli):
    """A service repository reaches its own actions with ./, not with this repository's $/."""
    repo = Repo(tmp_path / "service")
    repo.commit("files", {
        ".github/workflows/ci.yml": WORKFLOW.replace("$/actions/setup", "./.github/actions/setup"),
        ".github/actions/setup/action.yml": SETUP,
        ".github/workflows/release.yml": WORKFLOW.replace("uses: $/actions/setup", "uses: ./.github/actions/setup")
        .replace(f"our-org/shared/.github/workflows/deploy.yml@{'b' * 40} # v2.0.0", "./.github/workflows/ci.yml"),
    })
    edges = _graph(cli("report", cwd=repo.path).stdout)
    assert (".github/workflows/ci.yml", "./.github/actions/setup") in edges
    assert ("./.github/actions/setup", "actions/checkout") in edges
    assert (".github/workflows/release.yml", ".github/workflows/ci.yml") in edges
    assert not any(label.startswith("$/") for edge in edges for label in edge)


def test_sarif_levels_follow_the_risk(tmp_path: Path, cli):
    """A compromised version is an error, an unpinned one a warning, a pinned one a note."""
    repo = _repo(tmp_path)
    run = json.loads(cli("report", "--format", "sarif", cwd=repo.path).stdout)["runs"][0]
    levels = {}
    for result in run["results"]:
        if result["ruleId"] == "dependency":
            levels.setdefault(result["properties"]["name"], set()).add(result["level"])
    assert levels == {
        "tj-actions/changed-files": {"error"},  # a compromised range, and unpinned
        "other/tool": {"warning"},
        "postgres": {"warning"},
        "actions/checkout": {"note"},
        "python": {"note"},
        "our-org/shared/.github/workflows/deploy.yml": {"note"},
    }
