"""The ``ci-tools-commit-msg`` hook of .pre-commit-hooks.yaml, run by real git as its commit-msg hook.

pre-commit itself would install this repository into a fresh environment from the package index,
which tests must not reach; the hook script below calls the manifest's entry the way pre-commit
does (the message file appended as the last argument), with this environment's ci-tools.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from support.gitrepo import GIT_ENV
from support.paths import REPO


def hook() -> dict:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    return hooks["ci-tools-commit-msg"]


def test_manifest_entry():
    h = hook()
    assert h["stages"] == ["commit-msg"] and h["language"] == "python"
    assert h["entry"] == "ci-tools commits --message-file"


def test_git_runs_the_hook_on_commit(repo):
    words = shlex.split(hook()["entry"])
    executable = Path(sys.executable).parent / words[0]
    script = repo.path / ".git" / "hooks" / "commit-msg"
    script.write_text(f"#!/bin/sh\nexec {shlex.join([str(executable), *words[1:]])} \"$1\"\n")
    script.chmod(0o755)
    env = {**os.environ, **GIT_ENV}

    def commit(message: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "commit", "--allow-empty", "-q", "-m", message], cwd=repo.path, env=env,
                              capture_output=True, text=True)

    bad = commit("Fixed it")
    assert bad.returncode != 0
    assert '.git/COMMIT_EDITMSG:1:1: error: "Fixed it" does not start with a type' in bad.stderr  # git shows hooks' output on stderr
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=repo.path).returncode != 0
    good = commit("fix: handle the empty list\n\nThe loop assumed one item.")
    assert good.returncode == 0, good.stdout + good.stderr
    assert repo.git("log", "--format=%s") == "fix: handle the empty list"
