"""The in-process ``ci-tools`` of the CLI tests (tests/support/cli.py) is the process seen from outside.

Each case runs ``python -m ci_tools`` for real and in this process, and the exit code, stdout and
stderr must be equal: these are the suite's smoke tests of the real entry point, one or more per
kind of outcome (argparse's own exits, usage errors, findings, a fatal error, redaction, the
working directory). The rest checks the isolation a new process gives for free.
"""

from __future__ import annotations

import os
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from support import cli

BAD = """on: pull_request_target
permissions: write-all
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
        bogus: 1
"""
TOKEN = "ghp_" + "SmokeTestToken0123456789ab"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("smoke")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "bad.yml").write_text(BAD)
    (root / "actions" / "x").mkdir(parents=True)
    (root / "actions" / "x" / "action.yml").write_text("name: x\n")
    return root


CASES = {
    "version": (["--version"], {}, "."),
    "no-command": ([], {}, "."),
    "unknown-option": (["check", "--bogus"], {}, "."),
    "usage-error": (["check", "--select", "no-such-check"], {}, "."),
    "findings-json": (["check", "--no-actionlint", "--format", "json"], {}, "."),
    "findings-text-in-a-subdirectory": (["check", "--no-actionlint", "bad.yml"], {}, ".github/workflows"),
    "github-annotations": (["check", "--no-actionlint", "--format", "github"], {"GITHUB_ACTIONS": "true"}, "."),
    "redacted": (["check", f"missing-{TOKEN}.yml"], {"GITHUB_TOKEN": TOKEN}, "."),
    "fatal": (["verify", "--online", "--no-cache"],
              {"GITHUB_API_URL": "http://127.0.0.1:9", "CI_TOOLS_HTTP_BACKOFF": "0.01", "CI_TOOLS_HTTP_TIMEOUT": "2",
               "XDG_CACHE_HOME": "cache"}, "."),
    "branch": (["branch", "--name", "feature/ok"], {}, "."),
}


@pytest.mark.parametrize("name", list(CASES))
def test_in_process_equals_the_process(repo, name):
    argv, env, where = CASES[name]
    real = cli.run_process(*argv, cwd=repo / where, env=env)
    here = cli.run(*argv, cwd=repo / where, env=env)
    assert (here.returncode, here.stdout, here.stderr) == (real.returncode, real.stdout, real.stderr)
    assert real.stdout or real.stderr  # each case says something
    assert TOKEN not in real.stdout + real.stderr


def test_environment_and_working_directory_are_the_calls_only(repo, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "from-the-developers-shell")
    before = (dict(os.environ), os.getcwd(), sys.stdout, sys.stderr, sys.stdin)
    done = cli.run("check", f"missing-{TOKEN}.yml", cwd=repo / "actions", env={"GH_TOKEN": TOKEN})
    assert done.returncode == 2 and "missing-***.yml" in done.stderr
    assert (dict(os.environ), os.getcwd(), sys.stdout, sys.stderr, sys.stdin) == before
    # the developer's token is not the call's: a file named after it is not redacted
    shown = cli.run("check", "missing-from-the-developers-shell.yml", cwd=repo)
    assert "missing-from-the-developers-shell.yml" in shown.stderr


def test_secrets_registered_in_the_test_are_not_a_new_processs(repo):
    from ci_tools.core import redact

    redact.register("registered-by-the-test")
    try:
        done = cli.run("check", "missing-registered-by-the-test.yml", cwd=repo)
        assert "missing-registered-by-the-test.yml" in done.stderr  # a new process knows no such secret
        assert redact.redact("registered-by-the-test") == "***"  # and the test's own registration stays
    finally:
        redact._extra.discard("registered-by-the-test")


def test_a_call_that_hangs_raises_timeout_expired(repo, monkeypatch):
    import time

    import ci_tools.cli

    def hang(argv):
        print("started")
        time.sleep(60)
        return 0

    monkeypatch.setattr(ci_tools.cli, "main", hang)
    before = (dict(os.environ), os.getcwd(), sys.stdout, sys.stderr)
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        cli.run("check", cwd=repo, env={"CI_TOOLS_X": "1"}, timeout=0.2)
    assert time.monotonic() - started < 30
    assert (dict(os.environ), os.getcwd(), sys.stdout, sys.stderr) == before


def test_a_servers_threads_write_where_they_wrote_before(capsys):
    class Server(socketserver.TCPServer):
        def say(self) -> None:
            sys.stderr.write("from the server\n")

    out = cli._Capture(sys.__stdout__, "stdout")
    err = cli._Capture(sys.__stderr__, "stderr")
    stdin = sys.stdin
    with Server(("127.0.0.1", 0), socketserver.BaseRequestHandler) as server:
        with cli._streams(stdin, out, err):
            thread = threading.Thread(target=server.say)
            thread.start()
            thread.join()
            sys.stderr.write("from the command\n")
    assert err.text() == "from the command\n"
    assert "from the server" in capsys.readouterr().err
