"""scripts/pin_templates.py, run as release-self.yml and sync-templates.yml run it (python3, a directory)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import REPO

SCRIPT = REPO / "scripts" / "pin_templates.py"
SHA = "0123456789abcdef0123456789abcdef01234567"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    target = tmp_path / "workflow-templates"
    shutil.copytree(REPO / "workflow-templates", target)
    return target


def test_committed_templates_name_a_release_by_its_commit(templates):
    assert run("--repository", "org/ci", "--check", str(templates), cwd=templates.parent).returncode == 0
    version = json.loads((REPO / ".release-please-manifest.json").read_text())["."]
    calls = sum(p.read_text().count(" # v") for p in templates.glob("*.yml"))
    pinned = sum(p.read_text().count(f" # v{version}\n") for p in templates.glob("*.yml"))
    assert pinned == calls >= 7  # one call in each starter, two in canary-deploy: all at the latest release
    assert not any("ignore[" in p.read_text() for p in templates.glob("*.yml"))


def test_an_unpinned_call_fails_the_check(templates):
    path = templates / "python-ci.yml"
    text = path.read_text()
    head, _, rest = text.partition("python-ci.yml@")
    path.write_text(head + "python-ci.yml@main" + rest[rest.index("\n"):])
    out = run("--repository", "org/ci", "--check", str(templates), cwd=templates.parent)
    assert out.returncode == 1
    assert out.stderr.count("is not pinned to a release") == 1 and '"main"' in out.stderr


def test_pin_rewrites_every_call_and_check_then_passes(templates):
    out = run("--repository", "org/ci", "--sha", SHA, "--version", "v1.2.3", str(templates), cwd=templates.parent)
    assert out.returncode == 0, out.stderr
    text = (templates / "canary-deploy.yml").read_text()
    assert text.count(f"@{SHA} # v1.2.3\n") == 2
    assert "unreleased" not in text and "ignore[" not in text
    assert run("--repository", "org/ci", "--check", str(templates), cwd=templates.parent).returncode == 0


def test_pinned_templates_pass_ci_tools_check(cli, templates):
    """After pinning, the templates pass every check, with no ignore comment left to help them."""
    run("--repository", "org/ci", "--sha", SHA, "--version", "v1.2.3", str(templates), cwd=templates.parent)
    shutil.copytree(REPO / ".github" / "workflows", templates.parent / ".github" / "workflows")
    (templates.parent / ".github" / "ci-tools.toml").write_text('repository = "org/ci"\n')
    out = cli("check", "--format", "json", "--no-shellcheck", "workflow-templates", cwd=templates.parent)
    assert json.loads(out.stdout)["findings"] == [], out.stdout


def test_pinning_is_idempotent_and_keeps_the_rest_of_the_file(templates):
    path = templates / "python-ci.yml"
    os.chmod(path, 0o640)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = path.read_bytes()
    args = ("--repository", "org/ci", "--sha", SHA, "--version", "v1.2.3", str(templates))
    run(*args, cwd=templates.parent)
    once = path.read_bytes()
    run(*args, cwd=templates.parent)
    assert path.read_bytes() == once
    assert once.count(b"\r\n") == before.count(b"\r\n") and b"\n" not in once.replace(b"\r\n", b"")
    changed = [(a, b) for a, b in zip(before.split(b"\r\n"), once.split(b"\r\n"), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].endswith(f"@{SHA} # v1.2.3".encode())
    assert path.stat().st_mode & 0o777 == 0o640


def test_moves_an_existing_pin_and_leaves_other_repositories_alone(tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    (d / "a.yml").write_text(
        "jobs:\n"
        "  a:\n"
        f"    uses: 'org/ci/.github/workflows/x.yml@{'f' * 40}' # v1.0.0\n"
        f"  b:\n    uses: other/ci/.github/workflows/x.yml@{'e' * 40} # v9.9.9\n"
        "  c:\n    steps:\n      - uses: org/ci/actions/check@main\n")
    out = run("--repository", "org/ci", "--sha", SHA, "--version", "v2.0.0", str(d), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (d / "a.yml").read_text().splitlines()[2] == f"    uses: 'org/ci/.github/workflows/x.yml@{SHA}' # v2.0.0"
    assert f"other/ci/.github/workflows/x.yml@{'e' * 40} # v9.9.9" in (d / "a.yml").read_text()
    assert "org/ci/actions/check@main" in (d / "a.yml").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (("--sha", "abc", "--version", "v1.0.0"), '--sha "abc" is not a 40-hex commit'),
    (("--sha", SHA, "--version", "1.0"), '--version "1.0" is not a vX.Y.Z tag'),
    (("--sha", SHA), '--version "" is not a vX.Y.Z tag'),
])
def test_bad_arguments_are_usage_errors_and_change_nothing(templates, args, message):
    before = {p.name: p.read_bytes() for p in templates.iterdir()}
    out = run("--repository", "org/ci", *args, str(templates), cwd=templates.parent)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
    assert {p.name: p.read_bytes() for p in templates.iterdir()} == before


def test_nothing_to_pin_fails(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.yml").write_text("on: push\n")
    out = run("--repository", "org/ci", "--sha", SHA, "--version", "v1.0.0", "t", cwd=tmp_path)
    assert out.returncode == 1 and "no call of org/ci's reusable workflows found" in out.stderr
    missing = run("--repository", "org/ci", "--check", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere: no such directory" in missing.stderr


DOCS = ("README.md", "docs", "actions")


def test_committed_examples_name_the_latest_release(tmp_path):
    """Every README and docs example that calls this repository at a release names the manifest's release,
    by a commit whose manifest says so: a release re-pins them with the templates."""
    version = json.loads((REPO / ".release-please-manifest.json").read_text())["."]
    out = run("--repository", "org/ci", "--check", "workflow-templates", "--docs", *DOCS, cwd=REPO)
    assert out.returncode == 0, out.stderr
    import re
    found = []
    for doc in [REPO / "README.md", *(REPO / "docs").rglob("*.md"), *(REPO / "actions").rglob("*.md")]:
        found += re.findall(r"^[ \t-]*uses:[ \t]*org/ci/\S+@([0-9a-f]{40}) # (v\S+)$", doc.read_text(), re.M)
    assert len(found) >= 15 and {v for _, v in found} == {f"v{version}"}
    shas = {sha for sha, _ in found}
    assert len(shas) == 1
    shown = subprocess.run(["git", "show", f"{shas.pop()}:.release-please-manifest.json"], cwd=REPO,
                           capture_output=True, text=True)
    if shown.returncode == 0:  # a shallow clone may not hold the release commit
        assert json.loads(shown.stdout)["."] == version


def test_docs_examples_at_a_release_move_and_others_stay(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.yml").write_text(f"jobs:\n  a:\n    uses: org/ci/.github/workflows/x.yml@{'f' * 40} # v1.0.0\n")
    doc = tmp_path / "docs" / "guide.md"
    doc.parent.mkdir()
    doc.write_text(
        "```yaml\n"
        f"      - uses: org/ci/actions/check@{'a' * 40} # v1.0.0\n"
        f"    uses: org/ci/.github/workflows/x.yml@{'b' * 40}   #  v1.0.0\n"
        "      - uses: org/ci/actions/check@<sha> # vX.Y.Z\n"
        "      - uses: org/ci/actions/check@main\n"
        "      - uses: org/ci/actions/check@v1.0.0 # v1.0.0\n"
        f"      - uses: other/ci/actions/check@{'c' * 40} # v1.0.0\n"
        "```\n"
        "Call it as `uses: org/ci/actions/check@<sha> # vX.Y.Z`.\n")
    out = run("--repository", "org/ci", "--sha", SHA, "--version", "v2.0.0", "t", "--docs", "docs", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = doc.read_text().splitlines()
    assert lines[1] == f"      - uses: org/ci/actions/check@{SHA} # v2.0.0"
    assert lines[2] == f"    uses: org/ci/.github/workflows/x.yml@{SHA} # v2.0.0"
    assert lines[3:] == ["      - uses: org/ci/actions/check@<sha> # vX.Y.Z", "      - uses: org/ci/actions/check@main",
                         "      - uses: org/ci/actions/check@v1.0.0 # v1.0.0",
                         f"      - uses: other/ci/actions/check@{'c' * 40} # v1.0.0", "```",
                         "Call it as `uses: org/ci/actions/check@<sha> # vX.Y.Z`."]
    # an example that names a version but calls a tag, not a commit, is what --check reports
    bad = run("--repository", "org/ci", "--check", "t", "--docs", "docs", cwd=tmp_path)
    assert bad.returncode == 1 and 'docs/guide.md:6:1: example calling org/ci at "v1.0.0"' in bad.stderr
    assert bad.stderr.count("example calling") == 1
    missing = run("--repository", "org/ci", "--check", "t", "--docs", "nowhere.md", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere.md: no such file or directory" in missing.stderr
