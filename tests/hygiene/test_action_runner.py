"""actions/pr-hygiene end to end through the local runner (tests/support/runner/).

The action's inputs default to the pull request event (base and head commits, title, head branch):
here they come from a real `pull_request` event payload over a real git history, so the defaults,
the two steps and the outputs are exercised exactly as on GitHub. CI_TOOLS_PYTHON names this
interpreter, which has ci-tools' dependencies, so the install step installs nothing (tests reach no
package index); the install itself is covered in test_action_scripts.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from support.fake_credentials import AWS_KEY
from support.runner import run_action

ACTION = Path(__file__).resolve().parents[2] / "actions" / "pr-hygiene"


def pull_request_event(base: str, head: str, title: str, branch: str) -> dict:
    return {"event_name": "pull_request", "head_ref": branch, "base_ref": "main",
            "event": {"number": 7, "pull_request": {"number": 7, "title": title,
                                                    "base": {"sha": base, "ref": "main"},
                                                    "head": {"sha": head, "ref": branch}}}}


def run(repo, github: dict, **inputs: str):
    return run_action(ACTION, inputs=inputs, workspace=repo.path, env={"CI_TOOLS_PYTHON": sys.executable},
                      github=github, timeout=180)


def test_a_pull_request_with_every_problem(repo):
    repo.commit("chore: init", {"app.py": "x = 1\n", ".release-please-manifest.json": '{".": "1.2.3"}\n'})
    base = repo.git("rev-parse", "HEAD")
    repo.branch("Feature/Keys")
    repo.commit("feat(api): add the client", {"client.py": "def get():\n    return 1\n"})
    repo.commit("Add key", {"keys.py": f'KEY = "{AWS_KEY}"\n'})
    head = repo.git("rev-parse", "HEAD")

    result = run(repo, pull_request_event(base, head, "Add the client", "Feature/Keys"))

    assert result.failed
    assert result.outputs == {"bump": "minor", "next-version": "1.3.0", "problems": "4",
                              "failed-checks": "title,commits,secrets,branch", "failure-reason": "problems"}
    assert any(message.startswith('"Add the client" does not start with a type') for message in result.errors)
    assert any("possible secret" in message for message in result.errors)
    for heading in ("### Pull request title", "### Commit messages", "### Secrets", "### Branch name"):
        assert heading in result.summary
    assert AWS_KEY not in result.stdout + result.stderr + result.summary


def test_a_clean_pull_request_passes(repo):
    repo.commit("chore: init")
    base = repo.git("rev-parse", "HEAD")
    repo.branch("fix/typo")
    repo.commit("fix: correct a typo", {"README.md": "hello\n"})
    head = repo.git("rev-parse", "HEAD")

    result = run(repo, pull_request_event(base, head, "fix: correct a typo", "fix/typo"))

    assert not result.failed, (result.errors, result.stdout)
    assert result.outputs == {"bump": "patch", "next-version": "", "problems": "0", "failed-checks": "",
                              "failure-reason": ""}
    assert result.summary.count("✅") == 5  # four checks and the policy changes (none)
    assert "### Policy changes\n\n✅ no change to the gates' policy" in result.summary


def test_only_the_checks_asked_for(repo):
    repo.commit("chore: init")
    base = repo.git("rev-parse", "HEAD")
    repo.branch("wip")
    repo.commit("fix: correct a typo", {"README.md": "hello\n"})
    head = repo.git("rev-parse", "HEAD")

    result = run(repo, pull_request_event(base, head, "fix: correct a typo", "wip"), checks="title")

    assert not result.failed, (result.errors, result.stdout)
    assert result.outputs["failed-checks"] == "" and result.outputs["bump"] == ""
    assert "### Branch name" not in result.summary


def test_an_unknown_check_is_invalid_input(repo):
    repo.commit("chore: init")
    head = repo.git("rev-parse", "HEAD")

    result = run(repo, pull_request_event(head, head, "fix: x", "fix/x"), checks="title,speling")

    assert result.failed and result.outputs["failure-reason"] == "invalid-input"
    assert any('unknown check "speling"' in message for message in result.errors)
    assert "**Failed** (`invalid-input`)" in result.summary


def test_a_check_that_cannot_run_is_a_check_error(repo):
    repo.commit("fix: init")
    head = repo.git("rev-parse", "HEAD")

    result = run(repo, pull_request_event("0" * 40, head, "fix: x", "fix/x"), checks="title,commits")

    assert result.failed and result.outputs["failure-reason"] == "check-error"
    assert any("the commits check could not run" in message for message in result.errors)


def test_a_python_without_the_dependencies_is_install_failed(repo):
    repo.commit("fix: init")
    head = repo.git("rev-parse", "HEAD")

    result = run_action(ACTION, workspace=repo.path, env={"CI_TOOLS_PYTHON": "/bin/false"},
                        github=pull_request_event(head, head, "fix: x", "fix/x"), timeout=180)

    assert result.failed and result.outputs["failure-reason"] == "install-failed"
    assert result.step("hygiene").skipped
