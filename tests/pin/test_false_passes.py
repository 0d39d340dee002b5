"""Issue 12, item 8: no silent pass. A root that does not exist, nothing to check, a lockfile that is
not there and a symbolic link loop named on the command line are usage errors (exit 2) with one clear
line each; a loop met while walking a directory is a finding of that file."""

from __future__ import annotations

import os

import pytest

from support.pinworld import write

COMMANDS = ["check", "verify", "pin", "update", "report", "docs"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_root_that_does_not_exist_is_a_usage_error(cli, env, tmp_path, command):
    missing = tmp_path / "nonexistent"
    done = cli(command, "--root", str(missing), cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == f"ci-tools {command}: --root {missing}: no such directory"


@pytest.mark.parametrize("command", ["check", "verify", "pin", "update"])
def test_nothing_to_check_is_a_usage_error(cli, env, tmp_path, command):
    (tmp_path / ".git").mkdir()
    write(tmp_path / "README.md", "# nothing here\n")
    done = cli(command, cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    line = done.stderr.strip()
    assert line.startswith(f"ci-tools {command}: nothing to check: no workflow") and str(tmp_path) in line
    (tmp_path / "docs").mkdir()
    write(tmp_path / "docs/notes.txt", "x\n")
    done = cli(command, "docs", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "nothing to check" in done.stderr and '"docs"' in done.stderr


def test_everything_excluded_is_nothing_to_check(cli, env, tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".github/workflows/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: 'true'\n")
    done = cli("verify", "--exclude", ".github/**", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "nothing to check" in done.stderr and "exclude" in done.stderr


def test_a_lockfile_that_is_not_there_is_a_usage_error(cli, env, tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".github/workflows/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: 'true'\n")
    done = cli("verify", "--lockfile", str(tmp_path / "nonexistent"), cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == f"ci-tools verify: --lockfile {tmp_path / 'nonexistent'}: no such file"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symbolic_link_loop_named_on_the_command_line_is_a_usage_error(cli, env, tmp_path, command):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".github/workflows/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: 'true'\n")
    os.symlink("loop.yml", tmp_path / "loop.yml")
    done = cli(command, "loop.yml", cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == f"ci-tools {command}: loop.yml: symbolic link loop"


def test_a_loop_inside_a_directory_is_a_finding_of_that_file(cli, env, tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / "wf/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: 'true'\n")
    os.symlink("b.yml", tmp_path / "wf/b.yml")
    os.symlink("a.yml", tmp_path / "wf/c.yml")  # a link to a real file stays a file to check
    os.symlink("b.yml", tmp_path / "wf/b2.yml")
    os.unlink(tmp_path / "wf/b.yml")
    os.symlink("b2.yml", tmp_path / "wf/b.yml")  # b -> b2 -> b
    done = cli("check", "--no-actionlint", "--format", "json", "wf", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "RuntimeError" not in done.stderr
    assert '"path": "wf/b.yml"' in done.stdout and "symbolic link loop" in done.stdout
