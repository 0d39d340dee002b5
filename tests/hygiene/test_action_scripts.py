"""actions/pr-hygiene's scripts run directly with bash, as its two steps run them, on a real repository.

GitHub's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) are real files here; CI_TOOLS_PYTHON points at
this interpreter, which has ci-tools' dependencies, so install.sh installs nothing (tests reach no
package index).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.fake_credentials import AWS_KEY

ACTION = Path(__file__).resolve().parents[2] / "actions" / "pr-hygiene"


def outputs(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value
    return values


def run_step(script: str, cwd: Path, tmp: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "HYGIENE_"))}
    base.update({
        "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(ACTION),
        "GITHUB_OUTPUT": str(tmp / "output"), "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        "RUNNER_TEMP": str(tmp),
    })
    base.update(env)
    return subprocess.run(["bash", str(ACTION / script)], cwd=cwd, env=base, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def pull_request(repo):
    repo.commit("chore: init", {"app.py": "x = 1\n", ".release-please-manifest.json": '{".": "1.2.3"}\n'})
    base = repo.git("rev-parse", "HEAD")
    repo.branch("Feature/Keys")
    repo.commit("feat(api): add the client", {"client.py": "def get():\n    return 1\n"})
    repo.commit("Add key", {"keys.py": f'KEY = "{AWS_KEY}"\n'})
    return repo, base, repo.git("rev-parse", "HEAD")


def test_install_step_uses_the_given_python(tmp_path):
    done = run_step("install.sh", tmp_path, tmp_path, {"CI_TOOLS_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    assert outputs(tmp_path / "output") == {"python": sys.executable}
    done = run_step("install.sh", tmp_path, tmp_path, {"CI_TOOLS_PYTHON": "/bin/false"})
    assert done.returncode == 1 and "lacks ci-tools' dependencies" in done.stdout
    assert outputs(tmp_path / "output")["failure-reason"] == "install-failed"


def test_every_check_runs_and_each_problem_is_listed(pull_request, tmp_path):
    repo, base, head = pull_request
    done = run_step("pr-hygiene.sh", repo.path, tmp_path, {
        "CI_TOOLS_PYTHON": sys.executable, "HYGIENE_CHECKS": "title,commits,secrets,branch",
        "HYGIENE_BASE": base, "HYGIENE_HEAD": head, "HYGIENE_TITLE": "Add the client",
        "HYGIENE_BRANCH": "Feature/Keys", "HYGIENE_FAIL_LEVEL": "warning",
    })
    assert done.returncode == 1, done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    titles = [line.split("title=")[1].split("::")[0].split(" ")[0] for line in annotations]
    assert titles == ["commit-message", "commit-message", "ci-tools", "secret", "branch-name"]
    # commits, titles and branch names are no files: run annotations carrying the underlined line
    assert annotations[0] == ('::error title=commit-message (title)::"Add the client" does not start with a type; '
                              'write it as "<type>: add the client", e.g. "feat: ..." or "fix: ..."'
                              "%0AAdd the client%0A^~~~~~~~~~~~~~")
    assert annotations[1].startswith(f"::error title=commit-message ({head[:12]})::")
    assert "::semver bump: minor (1 feature; 2 commits checked, 1 not conventional" in annotations[2]
    assert annotations[3].startswith("::error file=keys.py,line=1,col=8,endLine=1,endColumn=28,title=secret::")
    out = outputs(tmp_path / "output")
    assert out == {"bump": "minor", "next-version": "1.3.0", "problems": "4",
                   "failed-checks": "title,commits,secrets,branch", "failure-reason": "problems"}
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## Pull request hygiene\n\n### Pull request title\n")
    for heading in ("### Commit messages", "### Secrets", "### Branch name"):
        assert heading in summary
    assert "`keys.py` line 1, column 8: the added line holds a possible secret \\(AWS Access Key\\)" in summary
    assert AWS_KEY not in done.stdout + done.stderr + summary


def test_clean_pull_request_passes(repo, tmp_path):
    repo.commit("chore: init")
    base = repo.git("rev-parse", "HEAD")
    repo.branch("fix/typo")
    repo.commit("fix: correct a typo", {"README.md": "hello\n"})
    head = repo.git("rev-parse", "HEAD")
    done = run_step("pr-hygiene.sh", repo.path, tmp_path, {
        "CI_TOOLS_PYTHON": sys.executable, "HYGIENE_BASE": base, "HYGIENE_HEAD": head,
        "HYGIENE_TITLE": "fix: correct a typo", "HYGIENE_BRANCH": "fix/typo",
    })
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs(tmp_path / "output") == {"bump": "patch", "next-version": "", "problems": "0", "failed-checks": "",
                                            "failure-reason": ""}
    summary = (tmp_path / "summary.md").read_text()
    assert "✅ the title follows Conventional Commits" in summary
    assert summary.count("✅") == 5  # four checks and the policy changes (none)
    assert "### Policy changes\n\n✅ no change to the gates' policy" in summary


def test_outside_a_pull_request_checks_are_skipped_with_a_notice(repo, tmp_path):
    repo.commit("chore: init")
    done = run_step("pr-hygiene.sh", repo.path, tmp_path, {"CI_TOOLS_PYTHON": sys.executable, "HYGIENE_CHECKS": "title, branch"})
    assert done.returncode == 0
    assert done.stdout.count("::notice title=pr-hygiene::") == 2
    assert "ℹ️ not checked: no pull request title" in (tmp_path / "summary.md").read_text()


def test_bad_input_fails_with_one_line(repo, tmp_path):
    repo.commit("chore: init")
    done = run_step("pr-hygiene.sh", repo.path, tmp_path, {"CI_TOOLS_PYTHON": sys.executable, "HYGIENE_CHECKS": "speling"})
    assert done.returncode == 1
    assert '::error title=pr-hygiene::unknown check "speling"' in done.stdout
    done = run_step("pr-hygiene.sh", repo.path, tmp_path, {
        "CI_TOOLS_PYTHON": sys.executable, "HYGIENE_CHECKS": "commits", "HYGIENE_BASE": "0" * 40, "HYGIENE_HEAD": "HEAD"})
    assert done.returncode == 1
    assert "::error title=pr-hygiene::the commits check could not run (exit 3)" in done.stdout
    assert f'unknown revision "{"0" * 40}"' in done.stderr


def test_the_actions_requirements_match_the_repositorys():
    def pins(path: Path) -> dict[str, str]:
        found = {}
        for line in path.read_text().splitlines():
            if "==" in line and not line.lstrip().startswith("#"):
                name, _, version = line.split(" ")[0].partition("==")
                found[name.lower()] = version
        return found

    ours, root = pins(ACTION / "requirements.txt"), pins(ACTION.parents[1] / "requirements.txt")
    assert {"pyyaml", "jsonschema-rs", "detect-secrets", "requests"} <= set(ours)
    assert {name: root.get(name) for name in ours} == ours
    assert "--hash=sha256:" in (ACTION / "requirements.txt").read_text()
