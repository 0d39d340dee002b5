"""``ci-tools branch``: default and configured patterns, names from arguments, env and git."""

from __future__ import annotations

import json

import pytest

ALLOWED = ("develop, test, feature/<name>, feat/<name>, fix/<name>, hotfix/<name>, release/vX.Y.Z, "
           "dependabot/... (Dependabot), renovate/... (Renovate), release-please--... (release-please), "
           "pre-commit-ci-update-config (pre-commit.ci)")


@pytest.mark.parametrize("name", [
    # GitFlow's long-lived branches, promoted by pull request: develop -> test -> release/ -> main
    "develop", "test",
    "feature/login-page", "feature/JIRA-12_login", "feat/login-page", "fix/null-pointer", "hotfix/v1.2.4-crash",
    "release/v1.2.3", "release/v10.0.0",
    # the bots
    "dependabot/pip/requests-2.32.0", "dependabot/github_actions/actions/checkout-4.2.2",
    "renovate/actions-checkout-4.x", "release-please--branches--main",
    "release-please--branches--main--components--api", "pre-commit-ci-update-config",
])
def test_default_patterns_accept(cli, repo, name):
    done = cli("branch", name, cwd=repo.path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize("name, underline, hint", [
    ("Feat/login", "^~~~", 'rename it, e.g. "feat/login"'),
    ("bugfix/npe", "^~~~~~", 'rename it, e.g. "fix/npe"'),
    ("features/npe", "^~~~~~~~", 'rename it, e.g. "feature/npe"'),
    ("feature/Login Page", None, 'rename it, e.g. "feature/Login-Page"'),
    ("feature-login", None, 'rename it, e.g. "feature/login"'),
    ("release/1.2.3", None, 'rename it, e.g. "release/v1.2.3"'),
    ("Develop", None, 'rename it, e.g. "develop"'),
    ("release/v1.2", None, "rename it (git branch -m)"),
    ("main", None, "rename it (git branch -m)"),
    ("staging", None, "rename it (git branch -m)"),
    ("feature/", None, "rename it (git branch -m)"),
    ("developer", None, "rename it (git branch -m)"),
])
def test_default_patterns_reject_with_a_hint(cli, repo, name, underline, hint):
    done = cli("branch", name, cwd=repo.path)
    assert done.returncode == 1
    first, source, mark = done.stdout.splitlines()[:3]
    assert first.startswith(f'branch:1:1: error: branch name "{name}" matches none of the allowed patterns; {hint}')
    assert first.endswith(f"allowed: {ALLOWED} [branch-name]")
    assert (source, mark) == (name, underline or "^" + "~" * (len(name) - 1))  # None: the whole name


def test_the_readme_documents_the_default_model():
    """The README's branch section names every default pattern and draws the model."""
    from ci_tools.commands.branch import DEFAULT_PATTERNS
    from support.paths import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### `ci-tools branch`"):]
    section = section[:section.index("\n### ", 1)]
    assert "```mermaid" in section
    for _, description in DEFAULT_PATTERNS:
        assert f"`{description.split(' (')[0]}`" in section, description


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
    assert cli("branch", "develop", cwd=repo.path).returncode == 1  # patterns replace the defaults
    done = cli("branch", "feature/x", "--format", "json", cwd=repo.path)
    (finding,) = json.loads(done.stdout)["findings"]
    assert finding["check"] == "branch-name" and "allowed: (feat|fix)/[a-z0-9-]+, renovate/.+" in finding["message"]
    (repo.path / "pyproject.toml").write_text('[tool.ci-tools.branches]\npatterns = ["feat/(["]\n')
    done = cli("branch", "feat/x", cwd=repo.path)
    assert done.returncode == 2 and "is not a regular expression" in done.stderr


def test_extra_patterns_add_a_long_lived_branch(cli, repo):
    (repo.path / ".github").mkdir()
    (repo.path / ".github" / "ci-tools.toml").write_text('[branches]\nextra-patterns = ["staging"]\n')
    assert cli("branch", "staging", cwd=repo.path).returncode == 0
    assert cli("branch", "develop", cwd=repo.path).returncode == 0  # the defaults stay


def test_github_format_and_summary(cli, repo, tmp_path):
    summary = tmp_path / "summary.md"
    done = cli("branch", "Feat/x", "--summary", str(summary), cwd=repo.path, env={"GITHUB_ACTIONS": "true"})
    assert done.stdout.startswith('::error title=branch-name (branch)::branch name "Feat/x" matches none')
    assert done.stdout.rstrip().endswith("%0AFeat/x%0A^~~~")
    text = summary.read_text()
    assert text.startswith("### Branch name\n\n- ❌ **error** `branch` line 1, column 1: branch name \"Feat/x\"")
    assert "  Feat/x\n  ^~~~\n" in text


def test_control_characters_of_a_hostile_name_are_escaped_in_text(cli, repo):
    name = "feature/\x1b[2J\x1b]0;pwned\x07x"
    done = cli("branch", name, cwd=repo.path)
    assert done.returncode == 1
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert done.stdout.startswith('branch:1:1: error: branch name "feature/\\x1b[2J\\x1b]0;pwned\\x07x" matches none')
