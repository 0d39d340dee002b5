"""Progress on stderr when interactive, silent in CI (issue 3, item 8): stderr on a real pseudo-terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from support.pinworld import write
from support.terminal import run_on_terminal

BODY = ("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4\n"
        "      - uses: acme/nested@v2.0.0\n      - uses: acme/codeql/init@v3\n")


def run(args: list[str], cwd, env: dict[str, str], *, tty: bool) -> tuple[int, str, str]:
    """Run ``ci-tools ARGS`` with stdout on a pipe and stderr on a pseudo-terminal (``tty``) or a pipe."""
    if tty:
        return run_on_terminal(args, cwd, env)
    full = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN")}
    full.update(env)
    done = subprocess.run([sys.executable, "-m", "ci_tools", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_interactive_run_shows_a_progress_counter(env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/a.yml", BODY)
    code, out, err = run(["pin"], tmp_path, {k: v for k, v in env.items() if k != "CI"}, tty=True)
    assert code == 1, out + err  # files changed
    for n in (1, 2, 3):
        assert f"\rresolving repositories {n}/3" in err
    # the counter erases itself before the summary, which starts on a clean line
    assert err.rstrip().endswith("pinned 3 references in 1 file")
    assert "\r" + " " * 42 + "\r" in err
    assert "resolving" not in out and f"acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2" in wf.read_text()


def test_update_shows_its_release_counter(env, world, tmp_path):
    write(tmp_path / ".github/workflows/a.yml",
          "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
          f"      - uses: acme/checkout@{world.sha['checkout v4.0.0']} # v4.0.0\n"
          f"      - uses: acme/codeql/init@{world.sha['codeql v3.27.0']} # v3.27.0\n")
    code, out, err = run(["update"], tmp_path, {k: v for k, v in env.items() if k != "CI"}, tty=True)
    assert code == 1, out + err  # files changed
    assert "\rresolving repositories 2/2" in err and "\rreading releases 2/2" in err


@pytest.mark.parametrize("extra", [{"CI": "true"}, {"GITHUB_ACTIONS": "true"}, {"CI": "1"}])
def test_ci_is_silent_even_on_a_terminal(extra, env, tmp_path):
    write(tmp_path / ".github/workflows/a.yml", BODY)
    base = {k: v for k, v in env.items() if k != "CI"}
    code, out, err = run(["pin"], tmp_path, {**base, **extra}, tty=True)
    assert code == 1, out + err  # files changed
    assert "resolving" not in err and "\r" not in err.replace("\r\n", "")
    assert "pinned 3 references in 1 file" in err


def test_ci_false_counts_as_interactive(env, tmp_path):
    write(tmp_path / ".github/workflows/a.yml", BODY)
    code, out, err = run(["pin"], tmp_path, {**env, "CI": "false"}, tty=True)
    assert code == 1 and "\rresolving repositories 3/3" in err  # files changed


def test_a_pipe_is_silent(env, tmp_path):
    write(tmp_path / ".github/workflows/a.yml", BODY)
    code, out, err = run(["pin"], tmp_path, {k: v for k, v in env.items() if k != "CI"}, tty=False)
    assert code == 1, out + err  # files changed
    assert err == "pinned 3 references in 1 file\n"
