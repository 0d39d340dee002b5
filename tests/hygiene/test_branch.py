"""``ci-tools branch``: default and configured patterns, names from arguments, env and git."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("name", [
    "feature/login-page", "feature/JIRA-12_login", "fix/null-pointer", "hotfix/v1.2.4-crash",
    "release/v1.2.3", "release/v10.0.0", "dependabot/pip/requests-2.32.0",
    "dependabot/github_actions/actions/checkout-4.2.2", "release-please--branches--main",
    "release-please--branches--main--components--api",
])
def test_default_patterns_accept(cli, repo, name):
    done = cli("branch", name, cwd=repo.path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize("name, underline, hint", [
    ("Feat/login", "^~~~", 'rename it, e.g. "feature/login"'),
    ("bugfix/npe", "^~~~~~", 'rename it, e.g. "fix/npe"'),
    ("feature/Login Page", None, 'rename it, e.g. "feature/Login-Page"'),
    ("release/v1.2", None, "rename it (git branch -m)"),
    ("release/1.2.3", None, "rename it (git branch -m)"),
    ("main", None, "rename it (git branch -m)"),
    ("feature/", None, "rename it (git branch -m)"),
])
def test_default_patterns_reject_with_a_hint(cli, repo, name, underline, hint):
    done = cli("branch", name, cwd=repo.path)
    assert done.returncode == 1
    first, source, mark = done.stdout.splitlines()[:3]
    assert first.startswith(f'branch:1:1: branch name "{name}" matches none of the allowed patterns; {hint}')
    assert first.endswith("allowed: feature/<name>, fix/<name>, hotfix/<name>, release/vX.Y.Z, "
                          "dependabot/... (Dependabot), release-please--... (release-please) [branch-name]")
    assert (source, mark) == (name, underline or "^" + "~" * (len(name) - 1))  # None: the whole name


def test_name_from_environment_and_from_git(cli, repo):
    repo.commit("chore: init")
    repo.branch("wip")
    assert 'branch name "wip"' in cli("branch", cwd=repo.path).stdout
    assert cli("branch", cwd=repo.path, env={"GITHUB_HEAD_REF": "fix/x"}).returncode == 0
    repo.git("checkout", "-q", "--detach")
    done = cli("branch", cwd=repo.path)
    assert done.returncode == 2 and "HEAD is detached" in done.stderr


def test_configured_patterns(cli, repo):
    (repo.path / "pyproject.toml").write_text(
        '[tool.ci-tools.branches]\npatterns = ["(feat|fix)/[a-z0-9-]+"]\nextra-patterns = ["renovate/.+"]\n')
    assert cli("branch", "feat/x-1", cwd=repo.path).returncode == 0
    assert cli("branch", "renovate/pip", cwd=repo.path).returncode == 0
    done = cli("branch", "feature/x", "--format", "json", cwd=repo.path)
    (finding,) = json.loads(done.stdout)["findings"]
    assert finding["check"] == "branch-name" and "allowed: (feat|fix)/[a-z0-9-]+, renovate/.+" in finding["message"]
    (repo.path / "pyproject.toml").write_text('[tool.ci-tools.branches]\npatterns = ["feat/(["]\n')
    done = cli("branch", "feat/x", cwd=repo.path)
    assert done.returncode == 2 and "is not a regular expression" in done.stderr


def test_github_format_and_summary(cli, repo, tmp_path):
    summary = tmp_path / "summary.md"
    done = cli("branch", "Feat/x", "--summary", str(summary), cwd=repo.path, env={"GITHUB_ACTIONS": "true"})
    assert done.stdout.startswith('::error title=branch-name (branch)::branch name "Feat/x" matches none')
    assert done.stdout.rstrip().endswith("%0AFeat/x%0A^~~~")
    text = summary.read_text()
    assert text.startswith("### Branch name\n\n- ❌ **error** `branch` line 1, column 1: branch name \"Feat/x\"")
    assert "  Feat/x\n  ^~~~\n" in text
