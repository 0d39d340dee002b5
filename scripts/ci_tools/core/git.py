"""Running git: one runner for every command that reads a repository (one-line errors, never a traceback).

- :func:`git`: run ``git ARGS`` in a repository and return its standard output;
- :func:`read_blobs`: file contents at a revision through one ``git cat-file --batch``;
- :func:`merge_base` and :func:`verify_revision`: revisions a pull request names, with what to do
  when they are missing (a shallow clone).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitError(Exception):
    pass


def git(args: list[str], cwd: Path, *, input: bytes | None = None, check: bool = True) -> bytes:
    """Run ``git ARGS`` in ``cwd`` and return stdout; a failure raises :class:`GitError` with git's message."""
    env = dict(os.environ, LC_ALL="C", GIT_PAGER="cat")
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env, timeout=300)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than 300 seconds") from None
    if check and done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(err[0].removeprefix("fatal: ") if err else f"git {args[0]} exited {done.returncode}")
    return done.stdout


def read_blobs(root: Path, head: str, paths: list[str]) -> dict[str, bytes]:
    """File contents at ``head`` through one ``git cat-file --batch``; missing or non-blob paths are left out."""
    if not paths:
        return {}
    request = "".join(f"{head}:{p}\n" for p in paths).encode("utf-8")
    data = git(["cat-file", "--batch"], root, input=request)
    out: dict[str, bytes] = {}
    pos = 0
    for path in paths:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode("utf-8", "replace").split()
        pos = end + 1
        if len(header) == 3 and header[1] in ("blob", "commit", "tree", "tag"):
            size = int(header[2])
            if header[1] == "blob":
                out[path] = data[pos:pos + size]
            pos += size + 1
    return out


def merge_base(root: Path, base: str, head: str) -> str:
    """The merge base of ``base`` and ``head``; a one-line error that says what to do when there is none."""
    try:
        found = git(["merge-base", base, head], root).decode().strip()
    except GitError:
        found = ""
    if not found:
        raise GitError(f'"{base}" and "{head}" have no merge base; the clone is shallow or the branches share no '
                       "history: fetch the whole history (actions/checkout with fetch-depth: 0)")
    return found


def verify_revision(rev: str, root: Path) -> str:
    """The commit id of ``rev``; a one-line error that says what to do when it is not there."""
    if rev.startswith("-"):
        raise GitError(f'"{rev}" is not a revision')
    try:
        return git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], root).decode().strip()
    except GitError:
        raise GitError(f'unknown revision "{rev}"; fetch it first (actions/checkout with fetch-depth: 0 '
                       "fetches the whole history)") from None
