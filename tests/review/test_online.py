"""`report --online` and `verify --online --transitive` against the GitHub API double (a real HTTP
server on 127.0.0.1 answering from real git repositories built here). GitHub itself cannot run
here; the double answers with the shapes GitHub documents, and counts requests."""

from __future__ import annotations

import json

import pytest

from support.github_api import GitHubDouble
from support.gitrepo import Repo

pytestmark = pytest.mark.slow

NODE = "name: {name}\ndescription: d\nruns:\n  using: {using}\n  main: index.js\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    tool = Repo(root / "setup-tool")
    sha = {}
    sha["tool 1.0.0"] = tool.commit("one", {"action.yml": NODE.format(name="tool", using="node16")})
    tool.git("tag", "v1.0.0")
    sha["tool 1.2.0"] = tool.commit("two", {"index.js": "//\n"})
    tool.git("tag", "-a", "-m", "v1.2.0", "v1.2.0")
    sha["tool 2.0.0"] = tool.commit("three", {"action.yml": NODE.format(name="tool", using="node24")})
    tool.git("tag", "v2.0.0")
    comp = Repo(root / "composite")
    sha["comp 3.1.0"] = comp.commit("composite", {"action.yml": (
        "name: composite\ndescription: d\nruns:\n  using: composite\n  steps:\n"
        "    - uses: acme/setup-tool@v1.2.0\n"
        f"    - uses: acme/setup-tool@{sha['tool 2.0.0']} # v2.0.0\n"
        "    - uses: docker://alpine:3\n")})
    comp.git("tag", "v3.1.0")
    releases = {"acme/setup-tool": [
        {"tag_name": "v1.0.0", "published_at": "2025-01-01T00:00:00Z"},
        {"tag_name": "v1.2.0", "published_at": "2025-06-01T00:00:00Z"},
        {"tag_name": "v2.0.0", "published_at": "2026-01-01T00:00:00Z"}],
        "acme/composite": [{"tag_name": "v3.1.0", "published_at": "2026-02-01T00:00:00Z"}]}
    repos = {"acme/setup-tool": tool, "acme/composite": comp}
    return root, repos, releases, sha


@pytest.fixture
def double(world):
    _, repos, releases, _ = world
    d = GitHubDouble()
    for name, repo in repos.items():
        d.add_repo(name, repo.path, releases=releases[name])
    d.advisories = [{
        "ghsa_id": "GHSA-test-test-test", "cve_id": None, "html_url": "https://github.com/advisories/GHSA-test-test-test",
        "summary": "malicious release", "type": "reviewed", "cwes": [{"cwe_id": "CWE-506"}],
        "vulnerabilities": [{"package": {"ecosystem": "actions", "name": "acme/setup-tool"},
                             "vulnerable_version_range": "< 1.1.0", "first_patched_version": "1.1.0"}]},
        {"ghsa_id": "GHSA-not-mali-cious", "summary": "script injection", "cwes": [{"cwe_id": "CWE-94"}],
         "vulnerabilities": [{"package": {"ecosystem": "actions", "name": "acme/composite"},
                              "vulnerable_version_range": "<= 9.0.0"}]}]
    with d:
        yield d


@pytest.fixture
def project(world, tmp_path):
    _, _, _, sha = world
    repo = Repo(tmp_path / "project")
    repo.commit("ci", {".github/workflows/ci.yml": (
        "name: ci\non: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
        "    steps:\n"
        f"      - uses: acme/setup-tool@{sha['tool 1.0.0']} # v1.0.0\n"
        f"      - uses: acme/composite@{sha['comp 3.1.0']} # v3.1.0\n"
        f"      - uses: acme/setup-tool@{sha['tool 1.0.0']} # v1.2.0\n")})
    return repo


def _env(double: GitHubDouble) -> dict:
    return {"GITHUB_API_URL": double.url, "CI_TOOLS_HTTP_BACKOFF": "0"}


def test_report_online_facts_transitive_graph_and_advisories(double, project, tmp_path, cli, world):
    sha = world[3]
    out = cli("report", "--online", "--format", "json", "--cache-dir", str(tmp_path / "cache"), cwd=project.path,
              env=_env(double))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["online"] is True
    deps = {(d["name"], d["version"]): d for d in data["dependencies"]}
    tool = deps[("acme/setup-tool", "v1.0.0")]
    assert tool["published_at"] == "2025-01-01T00:00:00Z" and isinstance(tool["age_days"], int)
    assert tool["newest_in_major"] == "v1.2.0"
    # the verify --online checks give the status: line 11 pins the same commit under "# v1.2.0", a full
    # version tag that points elsewhere: moved, or a wrong comment (issue 12: tag-moved either way)
    assert tool["status"] == "tag-moved"
    assert [u["line"] for u in tool["uses"]] == [9, 11]
    assert deps[("acme/composite", "v3.1.0")]["status"] == "verified"
    transitive = {tuple(e) for e in data["graph"]["transitive"]}
    assert ("action:acme/composite", "action:acme/setup-tool") in transitive
    got = {(f["check"], f["line"]) for f in data["findings"]}
    assert ("tag-moved", 11) in got and ("tag-moved", 9) not in got
    assert ("deprecated-runtime", 9) in got  # setup-tool v1.0.0 declares node16
    assert ("transitive-unpinned", 10) in got  # acme/setup-tool@v1.2.0 and docker://alpine:3 inside composite
    messages = [f["message"] for f in data["findings"] if f["check"] == "transitive-unpinned"]
    assert any('"acme/setup-tool@v1.2.0"' in m for m in messages)
    assert any('"alpine:3"' in m for m in messages)
    # the unpinned tag inside the composite action was resolved and followed: v1.2.0 runs node16 too
    assert any(f["check"] == "deprecated-runtime" and f["line"] == 10 and "acme/setup-tool@v1.2.0" in f["message"]
               for f in data["findings"])
    # the advisory database: the malicious-code advisory matches v1.0.0, the injection advisory matches nothing
    compromised = [f for f in data["findings"] if f["check"] == "known-compromised"]
    assert [f["line"] for f in compromised] == [9] and "GHSA-test-test-test" in compromised[0]["message"]
    assert sha["tool 1.0.0"][:12] in compromised[0]["message"]


def test_one_resolution_per_repository_and_the_cache_is_reused(double, project, tmp_path, cli):
    cache = str(tmp_path / "cache")
    out = cli("report", "--online", "--format", "json", "--cache-dir", cache, cwd=project.path, env=_env(double))
    assert out.returncode == 0, out.stderr
    assert double.count(r"/repos/acme/setup-tool/tags") == 1
    assert double.count(r"/repos/acme/composite/tags") == 1
    assert double.count(r"/releases") == 2
    assert double.count(r"^/advisories") == 1
    contents = [p for p in double.log if "/contents/" in p]
    assert len(contents) == len(set(contents)), "a file at a commit was fetched twice"
    double.reset_log()
    again = cli("report", "--online", "--format", "json", "--cache-dir", cache, cwd=project.path, env=_env(double))
    assert again.returncode == 0
    assert double.count() == 0, double.log
    assert json.loads(again.stdout)["dependencies"] == json.loads(out.stdout)["dependencies"]


def test_markdown_online_graph_has_dashed_transitive_edges(double, project, tmp_path, cli):
    out = cli("report", "--online", "--cache-dir", str(tmp_path / "cache"), cwd=project.path, env=_env(double))
    assert out.returncode == 0, out.stderr
    assert "| Published | Age (days) | Newest in major | Status |" in out.stdout
    assert " -.-> " in out.stdout.split("```mermaid", 1)[1]


def test_verify_online_transitive_end_to_end(double, project, tmp_path, cli):
    out = cli("verify", "--online", "--transitive", "--format", "json", "--cache-dir", str(tmp_path / "cache"),
              cwd=project.path, env=_env(double))
    assert out.returncode == 1, out.stderr
    checks = {(f["check"], f["line"]) for f in json.loads(out.stdout)["findings"]}
    assert {("deprecated-runtime", 9), ("transitive-unpinned", 10)} <= checks


def test_depth_bounds_the_recursion(double, project, tmp_path, cli):
    out = cli("report", "--online", "--depth", "1", "--format", "json", "--cache-dir", str(tmp_path / "c"),
              cwd=project.path, env=_env(double))
    data = json.loads(out.stdout)
    assert not any(f["check"] == "deprecated-runtime" and f["line"] == 10 for f in data["findings"])
    assert ("transitive-unpinned", 10) in {(f["check"], f["line"]) for f in data["findings"]}


def test_unreachable_api_is_one_fatal_line(project, tmp_path, cli):
    out = cli("report", "--online", "--no-cache", cwd=project.path,
              env={"GITHUB_API_URL": "http://127.0.0.1:9", "CI_TOOLS_HTTP_BACKOFF": "0"})
    assert out.returncode == 3, out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_verify_online_reads_the_advisory_database(double, project, tmp_path, cli):
    out = cli("verify", "--online", "--format", "json", "--cache-dir", str(tmp_path / "cache"), cwd=project.path,
              env=_env(double))
    found = [f for f in json.loads(out.stdout)["findings"] if f["check"] == "known-compromised"]
    assert [f["line"] for f in found] == [9] and "GHSA-test-test-test" in found[0]["message"]
    assert double.count(r"^/advisories") == 1


def test_a_missing_advisory_database_is_a_warning_and_every_other_finding_stays(double, project, tmp_path, cli, world):
    """GitHub Enterprise Server without GitHub Connect answers 404 for GET /advisories (issue 12, item 4)."""
    double.missing.add("advisories")
    sha = world[3]
    wf = project.path / ".github/workflows/ci.yml"
    wf.write_text(wf.read_text() + f"      - uses: acme/setup-tool@{'0' * 40} # v2.0.0\n")
    out = cli("verify", "--online", "--format", "json", "--cache-dir", str(tmp_path / "cache"), cwd=project.path,
              env=_env(double))
    assert out.returncode == 1, out.stderr  # the findings decide, not the missing endpoint
    got = {(f["check"], f["line"]) for f in json.loads(out.stdout)["findings"]}
    assert ("tag-moved", 11) in got and ("unresolved-ref", 12) in got
    warning = [line for line in out.stderr.splitlines() if "advisor" in line]
    assert len(warning) == 1 and "warning" in warning[0] and "/advisories" in warning[0] and "skipped" in warning[0]
    assert "NotFound" not in out.stderr
    report = cli("report", "--online", "--format", "json", "--cache-dir", str(tmp_path / "cache"), cwd=project.path,
                 env=_env(double))
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert {d["name"] for d in data["dependencies"]} == {"acme/setup-tool", "acme/composite"}
    assert ("deprecated-runtime", 9) in {(f["check"], f["line"]) for f in data["findings"]}
    assert any("advisor" in line and "skipped" in line for line in report.stderr.splitlines())
    assert len(data["skipped"]) == 1 and "advisory database" in data["skipped"][0]  # the report says so too
    assert sha["tool 1.0.0"][:12] not in report.stderr


def test_a_clean_tree_on_a_server_without_advisories_passes_with_the_warning(double, world, tmp_path, cli):
    double.missing.add("advisories")
    sha = world[3]
    repo = Repo(tmp_path / "clean")
    repo.commit("ci", {".github/workflows/ci.yml": (
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n"
        f"      - uses: acme/setup-tool@{sha['tool 2.0.0']} # v2.0.0\n")})
    out = cli("verify", "--online", "--cache-dir", str(tmp_path / "cache"), cwd=repo.path, env=_env(double))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "skipped" in out.stderr
