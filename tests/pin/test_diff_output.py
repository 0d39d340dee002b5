"""Issue 12, item 10: `pin --diff` is built from the fixes line by line (linear in the file), and is a
unified diff that `git apply` takes: the same as difflib's where difflib is right, plus the
"\\ No newline at end of file" marker difflib leaves out. Speed is measured by bench/pin_bench.py."""

from __future__ import annotations

import difflib
import subprocess

import pytest

from ci_tools.pin.rewrite import unified_diff
from support.pinworld import write

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"


def _cases():
    lines = [f"line {i}\n" for i in range(40)]
    yield "one change in the middle", lines, {20}
    yield "changes at both ends", lines, {0, 39}
    yield "close changes share a hunk", lines, {10, 14}
    yield "changes 7 apart share a hunk", lines, {10, 17}
    yield "changes 8 apart make two hunks", lines, {10, 18}
    yield "everything changes", lines[:5], {0, 1, 2, 3, 4}
    yield "crlf", [line.replace("\n", "\r\n") for line in lines[:12]], {3, 9}


@pytest.mark.parametrize(("name", "lines", "changed"), list(_cases()), ids=[c[0] for c in _cases()])
def test_the_diff_is_difflibs(name, lines, changed):
    new = [(line.rstrip("\r\n") + " # v1.2.3" + line[len(line.rstrip("\r\n")):]) if i in changed else line
           for i, line in enumerate(lines)]
    ours = unified_diff("".join(lines), "".join(new), "a/x.yml", "b/x.yml")
    assert ours == "".join(difflib.unified_diff(lines, new, "a/x.yml", "b/x.yml"))


def test_identical_texts_give_no_diff():
    assert unified_diff("a\nb\n", "a\nb\n", "a/x", "b/x") == ""


def test_a_last_line_without_newline_is_marked_and_git_applies_every_diff(tmp_path):
    """Repeated lines too, where difflib would pair the lines up differently (both diffs are right)."""
    cases = [("a\nb\nc", "a\nb\nc # v1"), ("x\n" * 20 + "y", "x\n" * 20 + "y # v1"), ("one", "one # v1"),
             ("p\r\nq\r\n", "p\r\nq # v1\r\n"),
             ("same\n" * 30, "same\n" * 2 + "same # v1\n" + "same\n" * 22 + "same # v1\n" + "same\n" * 4)]
    for old, new in cases:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        (tmp_path / "f.yml").write_bytes(old.encode())
        patch = unified_diff(old, new, "a/f.yml", "b/f.yml")
        if not old.endswith("\n"):
            assert patch.endswith("\n\\ No newline at end of file\n")
        done = subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=patch.encode(), capture_output=True)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "f.yml").read_bytes() == new.encode()


def test_pin_diff_of_a_large_file_is_exact(cli, env, world, tmp_path):
    body = HEAD + "".join(f"      - uses: acme/checkout@v4.1.0 # step {i}\n" if i % 3 else "      - run: 'true'\n"
                          for i in range(600))
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", "--diff", cwd=tmp_path, env=env)
    assert done.returncode == 1 and wf.read_text() == body
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    applied = subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=done.stdout.encode(), capture_output=True)
    assert applied.returncode == 0, applied.stderr
    pinned = wf.read_text()
    wf.write_text(body)
    assert cli("pin", cwd=tmp_path, env=env).returncode == 1
    assert wf.read_text() == pinned
