"""The pre-commit hooks this repository offers (.pre-commit-hooks.yaml) and uses (.pre-commit-config.yaml).

Real pre-commit validates both files, and runs this repository's local hooks in a scratch git
repository (language: system, so nothing is installed or fetched).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.paths import REPO

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", SKIP="")
    return subprocess.run([str(PRE_COMMIT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_manifest_and_config_validate(tmp_path):
    assert pre_commit("validate-manifest", str(REPO / ".pre-commit-hooks.yaml"), cwd=tmp_path,
                      home=tmp_path / "home").returncode == 0
    assert pre_commit("validate-config", str(REPO / ".pre-commit-config.yaml"), cwd=tmp_path,
                      home=tmp_path / "home").returncode == 0


def test_manifest_offers_check_and_verify_on_the_files_they_read():
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {"ci-tools-check", "ci-tools-verify"} <= set(hooks)
    assert hooks["ci-tools-check"]["entry"] == "ci-tools check"
    assert hooks["ci-tools-verify"]["entry"] == "ci-tools verify"
    for hook in (hooks["ci-tools-check"], hooks["ci-tools-verify"]):
        files = re.compile(hook["files"])
        for path in (".github/workflows/ci.yml", ".github/workflows/a.yaml", ".github/dependabot.yml",
                     "workflow-templates/x.yml", "workflow-templates/x.properties.json", "action.yml",
                     "actions/build/action.yaml"):
            assert files.search(path), path
        for path in ("README.md", ".github/workflows/scripts/x.sh", "src/app.py", "ci.yml", "myaction.yml"):
            assert not files.search(path), path


@pytest.mark.parametrize("command", ["check", "verify"])
def test_hook_entries_are_real_commands(cli, command):
    out = cli(command, "--help")
    assert out.returncode == 0, out.stderr


@pytest.mark.slow
def test_local_hooks_run_and_fail_on_a_bad_workflow(tmp_path, repo_dir):
    for rel in (".github/workflows", "workflow-templates"):
        shutil.copytree(REPO / rel, repo_dir / rel)
    for rel in (".pre-commit-config.yaml", "pyproject.toml"):
        shutil.copy(REPO / rel, repo_dir / rel)
    (repo_dir / ".venv").symlink_to(REPO / ".venv")
    (repo_dir / ".gitignore").write_text(".venv\n")
    subprocess.run(["git", "add", "-A"], cwd=repo_dir, check=True)
    home = tmp_path / "pre-commit-home"
    ok = pre_commit("run", "ci-tools-check", "--all-files", cwd=repo_dir, home=home)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (repo_dir / ".github/workflows/bad.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
        "    steps:\n      - uses: actions/checkout@v4\n")
    subprocess.run(["git", "add", "-A"], cwd=repo_dir, check=True)
    bad = pre_commit("run", "ci-tools-check", "--all-files", cwd=repo_dir, home=home)
    assert bad.returncode == 1
    assert ".github/workflows/bad.yml:8:" in bad.stdout
