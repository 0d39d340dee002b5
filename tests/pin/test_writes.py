"""Issue 12, item 7: what pin, update and docs write to a caller's repository is all or nothing.

Every file is staged first, then renamed; a failure at any point (a directory that refuses writes,
a rename that fails, Ctrl-C) puts back what was already replaced, and the message says what became
of the tree. The permission errors are real: a read-only directory (``chmod``, or ``chattr +i`` when
the tests run as root, whom permissions do not stop); the failures of a rename, which a test cannot
provoke on a healthy file system, are injected into :mod:`ci_tools.core.fsutil`.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ci_tools.core import fsutil
from support.pinworld import write

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def read_only():
    """Make directories refuse new files for real; undone after the test."""
    done: list[Path] = []

    def make(path: Path) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(path)], check=True)
        else:
            path.chmod(0o555)
        done.append(path)
        probe = path / ".probe"
        with pytest.raises(OSError):
            probe.write_text("x")

    yield make
    for path in done:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o755)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the tree (the pin cache of the test, under cache/, aside)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != "cache"}


def test_pin_writes_nothing_when_one_directory_refuses(cli, env, world, tmp_path, read_only):
    for i in range(6):
        write(tmp_path / f".github/workflows/w{i}.yml", HEAD + "      - uses: acme/checkout@v4.1.0\n")
    write(tmp_path / "actions/x/action.yml", "name: x\ndescription: d\nruns:\n  using: composite\n  steps:\n"
          "    - uses: acme/checkout@v4.1.0\n")
    (tmp_path / ".git").mkdir()
    before = _snapshot(tmp_path)
    read_only(tmp_path / "actions/x")
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "actions/x/action.yml" in lines[0] and "no file was changed" in lines[0]
    assert _snapshot(tmp_path) == before  # the six workflows too, and no temporary file left behind


def test_docs_writes_nothing_when_one_directory_refuses(cli, tmp_path, read_only):
    (tmp_path / ".git").mkdir()
    for name in ("a", "b"):
        write(tmp_path / f"actions/{name}/action.yml", f"name: {name}\ndescription: d\ninputs:\n  i:\n"
              "    description: an input\nruns:\n  using: composite\n  steps:\n    - run: 'true'\n      shell: bash\n")
        write(tmp_path / f"actions/{name}/README.md", "<!-- ci-tools-docs:inputs -->\n<!-- /ci-tools-docs:inputs -->\n"
              "<!-- ci-tools-docs:outputs -->\n<!-- /ci-tools-docs:outputs -->\n")
    before = _snapshot(tmp_path)
    read_only(tmp_path / "actions/b")
    done = cli("docs", cwd=tmp_path)
    assert done.returncode == 3 and "actions/b/README.md" in done.stderr and "no file was changed" in done.stderr
    assert "updated" not in done.stdout
    assert _snapshot(tmp_path) == before


def test_update_writes_nothing_when_one_directory_refuses(cli, env, world, tmp_path, read_only):
    old = world.sha["checkout v4.0.0"]
    for name in ("a", "b"):
        write(tmp_path / f".github/workflows/{name}.yml", HEAD + f"      - uses: acme/checkout@{old} # v4.0.0\n")
    write(tmp_path / "actions/x/action.yml", "name: x\ndescription: d\nruns:\n  using: composite\n  steps:\n"
          f"    - uses: acme/checkout@{old} # v4.0.0\n")
    before = _snapshot(tmp_path)
    read_only(tmp_path / "actions/x")
    done = cli("update", cwd=tmp_path, env=env)
    assert done.returncode == 3 and "no file was changed" in done.stderr
    assert _snapshot(tmp_path) == before


def _files(tmp_path: Path, n: int = 5) -> list[tuple[Path, bytes, str]]:
    out = []
    for i in range(n):
        path = write(tmp_path / f"f{i}.yml", f"old {i}\n", mode=0o640)
        out.append((path, f"new {i}\n".encode(), f"f{i}.yml"))
    return out


def _failing_replace(monkeypatch, fail_on: set[int], action=None):
    real = os.replace
    calls = {"n": 0}

    def replace(src, dst):
        calls["n"] += 1
        if action is not None:
            action(calls["n"])
        if calls["n"] in fail_on:
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", replace)


def test_a_rename_that_fails_puts_back_the_files_already_replaced(tmp_path, monkeypatch):
    changes = _files(tmp_path)
    before = _snapshot(tmp_path)
    _failing_replace(monkeypatch, {3})
    with pytest.raises(fsutil.WriteError) as caught:
        fsutil.write_all(changes)
    assert str(caught.value) == ("cannot replace f2.yml: Permission denied; the 2 files already replaced were put "
                                 "back; no file was changed")
    assert _snapshot(tmp_path) == before and all(stat.S_IMODE(p.stat().st_mode) == 0o640 for p, _, _ in changes)


def test_a_file_that_cannot_be_put_back_is_named_with_its_original(tmp_path, monkeypatch):
    changes = _files(tmp_path)
    _failing_replace(monkeypatch, {3, 4})  # the third rename fails, then putting back the first one too
    with pytest.raises(fsutil.WriteError) as caught:
        fsutil.write_all(changes)
    message = str(caught.value)
    assert message.startswith("cannot replace f2.yml: Permission denied; 1 file could not be put back")
    assert "f0.yml (" in message and ".orig)" in message and "every other file is unchanged" in message
    original = message.split("f0.yml (", 1)[1].split(")", 1)[0]
    assert Path(original).read_bytes() == b"old 0\n" and (tmp_path / "f0.yml").read_bytes() == b"new 0\n"
    assert [(tmp_path / f"f{i}.yml").read_bytes() for i in range(1, 5)] == [f"old {i}\n".encode() for i in range(1, 5)]


def test_ctrl_c_between_renames_puts_everything_back(tmp_path, monkeypatch):
    changes = _files(tmp_path)
    before = _snapshot(tmp_path)

    def interrupt(n: int) -> None:
        if n == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real signal, held until the rename is done

    _failing_replace(monkeypatch, set(), interrupt)
    with pytest.raises(KeyboardInterrupt) as caught:
        fsutil.write_all(changes)
    assert str(caught.value) == "the 2 files already replaced were put back; no file was changed"
    assert _snapshot(tmp_path) == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is given back


def test_ctrl_c_during_a_pin_of_many_files_leaves_every_file_as_it_was(env, world, tmp_path):
    for i in range(1800):
        write(tmp_path / f".github/workflows/w{i:04}.yml", HEAD + "      - uses: acme/checkout@v4.1.0\n")
    (tmp_path / ".git").mkdir()
    before = _snapshot(tmp_path)
    folder = tmp_path / ".github/workflows"
    full = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN")}
    proc = subprocess.Popen([sys.executable, "-m", "ci_tools", "pin"], cwd=tmp_path, env={**full, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and not any(name.endswith(".tmp") for name in os.listdir(folder)):
        time.sleep(0.001)  # waiting for the write phase to start, not measuring anything
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert err.strip() == "ci-tools: interrupted; no file was changed" or err.strip().endswith(
        "were put back; no file was changed")
    assert _snapshot(tmp_path) == before


def test_a_report_to_a_pipe_does_not_replace_it(cli, tmp_path):
    """--output names a FIFO (or /dev/stdout, /dev/null): written into, never renamed over."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".github/workflows/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: 'true'\n")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = cli("check", "--no-actionlint", "--format", "json", "--output", str(fifo), cwd=tmp_path)
    reader.join(timeout=60)
    assert done.returncode in (0, 1), done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and got and got[0].startswith(b'{"version": 1')
