"""Running git: one runner for every part of ci-tools that runs git (one-line errors, never a traceback).

- :func:`git`: run ``git ARGS`` in a repository and return its standard output;
- :func:`read_blobs`: file contents at a revision through one ``git cat-file --batch``;
- :func:`merge_base` and :func:`verify_revision`: revisions a pull request names, with what to do
  when they are missing (a shallow clone).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path


class GitError(Exception):
    """git failed: the message is git's first line of error; ``stderr`` is all of it and
    ``returncode`` git's exit status (None when git did not run: missing, or ``timed_out``)."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None,
                 timed_out: bool = False) -> None:
        super().__init__(message)
        self.stderr = stderr
        self.returncode = returncode
        self.timed_out = timed_out

    @property
    def last_line(self) -> str:
        """git's last line of error (where ``git fetch`` and ``ls-remote`` put the cause)."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else str(self)


def git(args: list[str], cwd: Path | None, *, input: bytes | None = None, check: bool = True,
        env: Mapping[str, str] | None = None, timeout: float = 300) -> bytes:
    """Run ``git ARGS`` in ``cwd`` and return stdout; a failure raises :class:`GitError` with git's message.

    ``env`` adds variables to this process's environment (``GIT_TERMINAL_PROMPT=0`` for a remote)."""
    full = dict(os.environ, LC_ALL="C", GIT_PAGER="cat", **(env or {}))
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=full, timeout=timeout)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {timeout:.0f} seconds", timed_out=True) from None
    if check and done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace")
        err = stderr.strip().splitlines()
        raise GitError(err[0].removeprefix("fatal: ") if err else f"git {args[0]} exited {done.returncode}",
                       stderr=stderr, returncode=done.returncode)
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
