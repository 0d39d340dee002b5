"""This repository's release-please configuration, run through the real release-please (npm).

The release-please that ships: 16.14.1, the version googleapis/release-please-action v4.1.4 bundles
(tests/actions/release-please/test_shipped_version.py), as ``release-pr --dry-run``. It reads the
repository through its own GitHub class, answered from a real git history by the loopback GitHub
stand-in of :mod:`support.release_github` (GitHub itself cannot run here): the files, the commits,
no pull requests and no release yet.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from support.npm_release_please import release_please_dir
from support.paths import REPO
from support.release_github import ReleaseGitHub

FILES = ("release-please-config.json", ".release-please-manifest.json", "CHANGELOG.md", "pyproject.toml")


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def history(tmp_path: Path, *messages: str) -> Path:
    """A clone whose origin holds this repository's release files and the given commits."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    for name in FILES:
        shutil.copy(REPO / name, work / name)
    (work / "scripts" / "ci_tools").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "ci_tools" / "__init__.py", work / "scripts" / "ci_tools" / "__init__.py")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "chore: start", cwd=work)
    for message in messages:
        git("commit", "-q", "--allow-empty", "-m", message, cwd=work)
    git("clone", "-q", "--bare", str(work), str(tmp_path / "origin.git"), cwd=tmp_path)
    git("clone", "-q", str(tmp_path / "origin.git"), str(tmp_path / "clone"), cwd=tmp_path)
    return tmp_path / "clone"


def release_pr(clone: Path) -> str:
    github = ReleaseGitHub("org/ci", clone.parent / "origin.git")
    github.start()
    try:
        cli = release_please_dir() / "build" / "src" / "bin" / "release-please.js"
        out = subprocess.run(["node", str(cli), "release-pr", "--repo-url", "org/ci", "--token", "unused",
                              "--api-url", github.url, "--graphql-url", github.url, "--dry-run",
                              "--target-branch", "main"],
                             cwd=clone.parent, capture_output=True, text=True, timeout=120)
    finally:
        github.stop()
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


@pytest.mark.slow
def test_a_feature_proposes_the_next_minor_release_and_updates_every_version_file(tmp_path):
    """The manifest's release is the last; below 1.0.0 a feature bumps the minor version (bump-minor-pre-major)."""
    major, minor, _ = json.loads((REPO / ".release-please-manifest.json").read_text())["."].split(".")
    assert major == "0"
    output = release_pr(history(tmp_path, "feat: reusable workflows", "fix(check): a position"))
    assert f"title: chore(main): release 0.{int(minor) + 1}.0" in output
    assert "### Features" in output and "* reusable workflows" in output
    assert "### Bug fixes" in output and "**check:** a position" in output
    for updater in ("CHANGELOG.md:  [class Changelog", "pyproject.toml:  [class PyProjectToml",
                    "scripts/ci_tools/__init__.py:  [class Generic",
                    ".release-please-manifest.json:  [class ReleasePleaseManifest"):
        assert updater in output, updater


@pytest.mark.slow
def test_hidden_types_make_no_release(tmp_path):
    output = release_pr(history(tmp_path, "docs: wording", "ci: cache", "test: more"))
    assert "release 0." not in output


def test_version_markers_agree():
    """The manifest, the package and the changelog name the same release; the files release-please
    rewrites carry the markers."""
    version = json.loads((REPO / ".release-please-manifest.json").read_text())["."]
    assert f'__version__ = "{version}"' in (REPO / "scripts" / "ci_tools" / "__init__.py").read_text()
    assert f'\nversion = "{version}"\n' in (REPO / "pyproject.toml").read_text()
    changelog = (REPO / "CHANGELOG.md").read_text()
    # release-please's heading links the comparison with the previous release; the first had none
    assert f"\n## [{version}](https://github.com/org/ci/compare/" in changelog or f"\n## {version} (" in changelog
    config = json.loads((REPO / "release-please-config.json").read_text())
    package = config["packages"]["."]
    assert package["release-type"] == "python" and package["changelog-path"] == "CHANGELOG.md"
    assert config["include-v-in-tag"] is True and config["include-component-in-tag"] is False
    for extra in package["extra-files"]:
        assert "x-release-please-version" in (REPO / extra).read_text()


def test_the_security_release_opens_with_what_a_caller_must_act_on():
    """0.2.0's notes start with the security fixes, each marked where the caller must change something."""
    changelog = (REPO / "CHANGELOG.md").read_text()
    entry = changelog.split("\n## [0.2.0](", 1)[1].split("\n## ", 1)[0]
    first = [line for line in entry.splitlines()[1:] if line.strip()][0]
    assert first == "### Security fixes: what a caller must act on"
    for must in ("plan-sha256", "allow-other-commit", "var-files", "security-events: write",
                 "registry-username", "<rollout-name>", "cosign-public-key", "sign-refs"):
        assert must in entry.split("### Features", 1)[0], must
