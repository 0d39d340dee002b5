"""The per-document checks of a large input on two cores: half of the files in a forked child.

Parsing and checking a file is pure Python, so one process uses one core however many the
machine has. For a large input (``MIN_FILES`` files or more, on a POSIX system with a core free
for it, see :func:`eligible`) :class:`Half` forks once, after the imports and before any thread
starts, and the child loads and checks every other file. It sends back its findings and its documents with their node
trees dropped (pickling trees costs more than parsing them); :meth:`Half.join` re-parses, in the
parent, only the few documents a cross-file check keeps. Anything that goes wrong in the child
(a crash, a signal, a broken payload) makes the parent check those files itself: the result is
the same either way, only slower.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

from ci_tools.core.findings import Finding
from ci_tools.gha.source import Document, load
from ci_tools.lint import engine

MIN_FILES = 128


def eligible(files: list[Path], *, linter: bool = False) -> bool:
    """Fork for a large input when a core is free for the child: with actionlint running beside the
    checks (``linter``) that takes three; on two, three busy processes measured no faster than one."""
    if len(files) < MIN_FILES or not hasattr(os, "fork"):
        return False
    if os.environ.get("CI_TOOLS_JOBS", "").strip() == "1":
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores >= (3 if linter else 2)


class Half:
    """The files a forked child checks; :meth:`join` returns its findings and documents."""

    def __init__(self, files: list[Path], root: Path, ctx, only: set[str] | None) -> None:
        self.files, self.root, self.ctx, self.only = files, root, ctx, only
        self.pid = 0
        self.fd = -1
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # nothing buffered may be written twice
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return  # no child: join checks the files itself
        if pid == 0:  # the child: never returns
            os.close(read)
            self._child(write)
        os.close(write)
        self.pid, self.fd = pid, read

    def _child(self, fd: int) -> None:
        code = 1
        try:
            findings, docs = engine.per_document(engine.iter_documents(self.files, self.root), self.ctx, self.only)
            kept = []
            for index, doc in enumerate(docs):
                if doc.root is not None:
                    kept.append(index)
                    doc.release_tree()
            payload = pickle.dumps((findings, docs, kept), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            code = 0
        except BaseException:  # noqa: BLE001 - the parent redoes the work; the child only reports failure
            code = 1
        finally:
            os._exit(code)

    def join(self) -> tuple[list[Finding], list[Document]]:
        """The child's findings and documents (the trees a cross-file check needs parsed again)."""
        result = self._receive() if self.pid else None
        if result is None:  # no child, or it failed: check its files here
            return engine.per_document(engine.iter_documents(self.files, self.root), self.ctx, self.only)
        findings, docs, kept = result
        for index in kept:
            old = docs[index]
            docs[index] = load(old.path, root=self.root, display=old.display, kind=old.kind)
        return findings, docs

    def _receive(self):
        chunks = []
        try:
            while True:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(self.fd)
            _, status = os.waitpid(self.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        try:
            return pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - a truncated payload: redo the work
            return None


def split(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """Every other file to each side, so that both get a share of each repository's sizes."""
    return files[0::2], files[1::2]


def merge(ours: list[Document], theirs: list[Document]) -> list[Document]:
    """The documents back in the order of the files (``split``'s inverse)."""
    merged: list[Document] = []
    for index in range(len(ours) + len(theirs)):
        merged.append(ours[index // 2] if index % 2 == 0 else theirs[index // 2])
    return merged
