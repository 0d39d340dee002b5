"""Writing files: one file atomically (temporary file and rename, mode kept), or several all or nothing.

:func:`write_all` is what ``pin``, ``update`` and ``docs`` write a caller's repository with: every new
content is staged first in a temporary file beside its target (with a hard link to the original kept
beside it), and only when every one of them is staged are they renamed over their targets; a failure
or an interruption (Ctrl-C, SIGTERM) at any point puts back every file already replaced, so the tree
is left as it was, and the error says so. Signals are held while files are renamed, so an
interruption is acted on between two renames, never in the middle of one.

A target that exists and is no regular file (``--output /dev/null``, ``/dev/stdout``, a named pipe)
is written into instead: renaming over it would replace the device or pipe with a regular file,
for every program of the machine in the case of ``/dev/null``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class WriteError(Exception):
    """Files could not be written; the message says what became of the tree."""


class WriteInterrupted(KeyboardInterrupt):
    """Interrupted while writing; the message says what became of the tree."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        # a device or a pipe (--output /dev/stdout, /dev/null): renaming over it would replace it with a file
        with open(target, "wb") as handle:
            handle.write(data)
        return
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        _fill(fd, tmp, data, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@dataclass
class _Staged:
    shown: str  # the path as messages show it
    target: Path  # the real file (symbolic links are written through)
    tmp: str  # the new content
    original: str | None  # a hard link to (or a copy of) the original, for putting it back
    replaced: bool = False


def write_all(changes: list[tuple[Path, bytes, str]]) -> None:
    """Write every ``(path, data, shown)`` or none: raises :class:`WriteError` (or
    :class:`WriteInterrupted`) with every file as it was, or, should even putting a file back fail,
    with the list of files that could not be restored and where their originals are."""
    staged: list[_Staged] = []
    with _held_signals() as interrupted:
        try:
            for path, data, shown in changes:
                staged.append(_stage(Path(path), data, shown))
                if interrupted():
                    raise WriteInterrupted()
            for item in staged:
                try:
                    os.replace(item.tmp, item.target)
                except OSError as exc:
                    raise WriteError(f"cannot replace {item.shown}: {exc.strerror or exc}") from None
                item.replaced = True
                if interrupted():
                    raise WriteInterrupted()
        except BaseException as exc:
            replaced = sum(item.replaced for item in staged)
            kept = _roll_back(staged)
            if not isinstance(exc, (WriteError, OSError, KeyboardInterrupt)):
                raise  # a bug: the tree is put back all the same
            if kept:
                state = (f"{len(kept)} file{'s' * (len(kept) != 1)} could not be put back and hold the new "
                         "content, the original kept beside it: "
                         + ", ".join(f"{item.shown} ({item.original})" for item in kept)
                         + "; every other file is unchanged")
            elif replaced:
                state = (f"the {replaced} file{'s' * (replaced != 1)} already replaced were put back; no file "
                         "was changed")
            else:
                state = "no file was changed"
            if isinstance(exc, KeyboardInterrupt):
                raise WriteInterrupted(state) from None
            head = str(exc) if isinstance(exc, WriteError) else f"cannot write: {exc.strerror or exc}"
            raise WriteError(f"{head}; {state}") from None
    for item in staged:
        if item.original:
            with contextlib.suppress(OSError):
                os.unlink(item.original)


def _fill(fd: int, tmp: str, data: bytes, mode: int) -> None:
    """Write ``data`` to the temporary file ``tmp`` (open as ``fd``), on disk, with the target's mode."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)


def _stage(path: Path, data: bytes, shown: str) -> _Staged:
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
        if not stat.S_ISREG(st.st_mode):
            raise WriteError(f"cannot write {shown}: it is not a regular file")
        mode = stat.S_IMODE(st.st_mode)
    except FileNotFoundError:
        st, mode = None, 0o644
    except OSError as exc:
        raise WriteError(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise WriteError(f"cannot write {shown}: {exc.strerror or exc} (in {target.parent})") from None
    item = _Staged(shown, target, tmp, None)
    try:
        _fill(fd, tmp, data, mode)
        if st is not None:
            item.original = _keep_original(target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write {shown}: {exc.strerror or exc}") from None
        raise
    return item


def _keep_original(target: Path) -> str:
    """A hard link to ``target`` beside it (a copy where links are not allowed), to put it back from."""
    import shutil

    for _ in range(100):
        name = str(target.parent / f".{target.name}.{os.urandom(4).hex()}.orig")
        try:
            os.link(target, name)
            return name
        except FileExistsError:
            continue
        except OSError:
            shutil.copy2(target, name)
            return name
    raise WriteError(f"cannot keep the original of {target.name}")


def _roll_back(staged: list[_Staged]) -> list[_Staged]:
    """Put back every replaced file, remove every temporary file; returns the files that could not be
    put back (their original is left where :attr:`_Staged.original` says)."""
    kept = []
    for item in staged:
        if item.replaced:
            try:
                if item.original:
                    os.replace(item.original, item.target)
                else:
                    os.unlink(item.target)
                item.replaced = False
                item.original = None
            except OSError:
                kept.append(item)
                continue
        else:
            with contextlib.suppress(OSError):
                os.unlink(item.tmp)
        if item.original:
            with contextlib.suppress(OSError):
                os.unlink(item.original)
    return kept


@contextlib.contextmanager
def _held_signals() -> Iterator:
    """Hold SIGINT and SIGTERM while the body runs: it polls ``interrupted()`` between steps."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    seen: list[int] = []

    def hold(signum, frame) -> None:
        seen.append(signum)

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN:
            continue
        previous[signum] = current
        signal.signal(signum, hold)
    try:
        yield lambda: bool(seen)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
