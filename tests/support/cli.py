"""Run ``ci-tools`` for a test: in this process (:func:`run`), or as ``python -m ci_tools`` (:func:`run_process`).

Starting ``python -m ci_tools`` costs 0.2 to 0.6 s of a core before the command does anything (the
interpreter, the imports, the schemas). :func:`run` calls :func:`ci_tools.cli.main` here instead and
makes the call look like that process from the outside, so a test reads the same
``CompletedProcess`` either way:

- ``argv`` as the process gets it; the exit code is what ``main`` returns, or what ``SystemExit``
  carries (argparse's usage errors, ``--help``, ``--version``);
- the environment is the process's: this one without ``GITHUB_ACTIONS``, ``GITHUB_TOKEN`` and
  ``GH_TOKEN``, plus ``env``, set in ``os.environ`` for the call and put back after it;
- the working directory is ``cwd`` (``chdir`` for the call, back after it);
- stdin is ``input`` (or empty); stdout and stderr are fresh byte buffers behind text streams
  encoded as the child's would be, decoded as ``subprocess.run(text=True)`` decodes them
  (universal newlines); neither is a terminal. Only what the command's own threads write is
  captured: a loopback server of the test, answering the command from its own threads, keeps
  writing where it wrote before;
- what ``ci-tools`` keeps between calls in one process and a new process would not have is reset
  around the call: the secrets registered for redaction, and the memos of functions whose result
  depends on the environment (:func:`_fresh`);
- ``timeout`` raises ``subprocess.TimeoutExpired`` as ``subprocess.run`` does (``SIGALRM``
  interrupts the main thread; a command waiting for its own worker threads ends when they do).

Tests about the process itself (the console script's exit without tear-down, a pseudo-terminal,
signals, a git hook calling ``ci-tools``) run it for real (:func:`run_process`), and
``tests/support_tests/test_cli.py`` holds the two equal on a sample of every command.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HIDDEN = ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN")  # never inherited from the developer's shell


def process_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of a run: this process's, without :data:`HIDDEN`, updated with ``env``."""
    full = {k: v for k, v in os.environ.items() if k not in HIDDEN}
    full.update(env or {})
    return full


def run_process(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m ci_tools`` as a user would, returning the completed process."""
    return subprocess.run([sys.executable, "-m", "ci_tools", *args], cwd=cwd or REPO, env=process_env(env),
                          capture_output=True, text=True, input=input, timeout=timeout)


def run(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, input: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    """``ci-tools ARGS`` in this process, seen from outside as :func:`run_process` sees it."""
    from ci_tools.cli import main

    argv = [sys.executable, "-m", "ci_tools", *args]
    out, err = _Capture(sys.__stdout__, "stdout"), _Capture(sys.__stderr__, "stderr")
    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), encoding="utf-8")
    with _fresh(), _environment(process_env(env)), _cwd(cwd or REPO), _streams(stdin, out, err), \
            _alarm(argv, timeout):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except Exception:  # what the interpreter does with an exception main lets out
            traceback.print_exc(file=sys.stderr)
            code = 1
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    return subprocess.CompletedProcess(argv, code, out.text(), err.text())


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


class _Capture:
    """One captured stream: a text stream over a byte buffer, made as the child's would be."""

    def __init__(self, model, name: str) -> None:
        errors = getattr(model, "errors", None) or ("backslashreplace" if name == "stderr" else "strict")
        encoding = getattr(model, "encoding", None) or "utf-8"
        self.buffer = io.BytesIO()
        self.stream = io.TextIOWrapper(self.buffer, encoding=encoding, errors=errors, write_through=True)
        self.encoding = encoding

    def text(self) -> str:
        self.stream.flush()
        data = self.buffer.getvalue().decode(self.encoding, "strict" if self.encoding == "utf-8" else "replace")
        return data.replace("\r\n", "\n").replace("\r", "\n")  # subprocess.run(text=True)'s universal newlines


class _Router:
    """``sys.stdout``/``sys.stderr`` during a call: the command's threads write to its capture, a
    socket server's threads (the test's loopback servers answering it) where they wrote before."""

    def __init__(self, capture: io.TextIOWrapper, before) -> None:
        self._capture, self._before = capture, before

    def _target(self):
        target = getattr(threading.current_thread(), "_target", None)
        if isinstance(getattr(target, "__self__", None), socketserver.BaseServer):
            return self._before
        return self._capture

    def __getattr__(self, name: str):
        return getattr(self._target(), name)

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()


@contextlib.contextmanager
def _environment(wanted: dict[str, str]) -> Iterator[None]:
    """``os.environ`` as ``wanted`` for the call; variables are changed one by one (never cleared
    all at once), so a server thread reading ``PATH`` meanwhile always finds one."""
    saved = dict(os.environ)

    def become(target: dict[str, str]) -> None:
        tz = os.environ.get("TZ")
        for key in [k for k in os.environ if k not in target]:
            del os.environ[key]
        for key, value in target.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
        if os.environ.get("TZ") != tz:
            time.tzset()

    become(wanted)
    try:
        yield
    finally:
        become(saved)


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def _streams(stdin, out: _Capture, err: _Capture) -> Iterator[None]:
    """The call's stdin, stdout and stderr; ``sys.__stdout__`` too, which is where
    ``shutil.get_terminal_size`` (argparse's line width) looks for a terminal: a pipe has none."""
    names = ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__")
    saved = {name: getattr(sys, name) for name in names}
    routed = {"stdout": _Router(out.stream, saved["stdout"]), "stderr": _Router(err.stream, saved["stderr"])}
    sys.stdin = sys.__stdin__ = stdin
    sys.stdout = sys.__stdout__ = routed["stdout"]  # type: ignore[assignment]
    sys.stderr = sys.__stderr__ = routed["stderr"]  # type: ignore[assignment]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(sys, name, value)


@contextlib.contextmanager
def _alarm(argv: list[str], timeout: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or not timeout:
        yield
        return

    def expire(signum, frame):
        raise _Expired  # not an Exception: main's error handler must not turn it into exit 3

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    except _Expired:
        raise subprocess.TimeoutExpired(argv, timeout) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Expired(BaseException):
    """The call's time is up (raised by SIGALRM inside it)."""


@contextlib.contextmanager
def _fresh() -> Iterator[None]:
    """For the call, what a new process knows: no secret registered for redaction (those the test
    registered itself are back after the call), no memo of :func:`ci_tools.core.redact.redact`, whose
    result depends on the environment's tokens."""
    import ci_tools.core.redact as redact_module

    registered = getattr(redact_module, "_extra", None)
    saved = set(registered) if isinstance(registered, set) else None
    _forget(redact_module)
    try:
        yield
    finally:
        _forget(redact_module)
        if saved is not None:
            registered.update(saved)


def _forget(redact_module) -> None:
    extra = getattr(redact_module, "_extra", None)
    if isinstance(extra, set):
        extra.clear()
    redact = getattr(redact_module, "redact", None)
    for name, module in list(sys.modules.items()):
        if not (name == "ci_tools" or name.startswith("ci_tools.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if getattr(value, "__wrapped__", None) is redact and hasattr(value, "cache_clear"):
                value.cache_clear()
