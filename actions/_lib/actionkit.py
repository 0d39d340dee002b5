"""What every action script here needs from the runner: outputs, summaries, annotations, failures.

The toolkit of the actions' scripts, standard library only (composite actions run with the
runner's ``python3``), one module per job:

- ``actionkit`` (this module): the runner's side: outputs, the job summary, annotations, the one
  failure line, and :func:`main`, which every script ends with: whatever happens, the step ends
  in one line, never a traceback;
- ``inputs``: the inputs, read by their names, typed, named in every error;
- ``download``: HTTPS downloads checked against a SHA-256 before anything uses them;
- ``tfkit``: what terraform-plan and terraform-apply share.

A script beside an ``action.yml`` imports them with::

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
    import actionkit

and action.yml starts it with ``exec`` (``run: exec python3 "$GITHUB_ACTION_PATH/script.py"``):
the runner signals only the step's own process when the job is cancelled or times out, and
bash would neither pass the signal on nor wait for Python (see :func:`main`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn


class ActionFailure(Exception):
    """A failure with a reason from the action's documented vocabulary and one line saying why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def env(name: str, default: str = "") -> str:
    """A variable of the environment (the runner's, or a step's output passed through ``env:``),
    stripped; ``default`` when unset. The action's inputs are read with the ``inputs`` module."""
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean variable; its error names the variable. Left for actions/check, whose inputs
    move to the ``inputs`` module with its Python starts; every other script reads them there."""
    value = env(name).lower()
    if not value:
        return default
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise ActionFailure("invalid-input", f"{name} must be true or false, not {value!r}")


def _append(variable: str, text: str) -> None:
    path = os.environ.get(variable)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def _escape_property(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _keyed(name: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelim_{secrets.token_hex(8)}"
    while delimiter in value:
        delimiter = f"ghadelim_{secrets.token_hex(8)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def set_output(name: str, value: object) -> None:
    """Write one step output; multi-line values use a random heredoc delimiter."""
    _append("GITHUB_OUTPUT", _keyed(name, str(value)))


def add_path(directory: str | Path) -> None:
    _append("GITHUB_PATH", f"{directory}\n")


def summary(markdown: str) -> None:
    """Append markdown to the job summary."""
    _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n")


def mask(value: str) -> None:
    if value:
        print(f"::add-mask::{value}", flush=True)


def annotate(level: str, message: str, file: str = "", line: int = 0, col: int = 0, title: str = "") -> None:
    props = []
    if file:
        props.append(f"file={_escape_property(file)}")
        if line:
            props.append(f"line={line}")
        if col:
            props.append(f"col={col}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(props)}::" if props else f"::{level}::"
    print(head + _escape_data(message), flush=True)


def fail(reason: str, message: str) -> NoReturn:
    """Report a failure: an error annotation, the ``failure-reason`` output, a summary line, exit 1."""
    annotate("error", message, title=reason)
    set_output("failure-reason", reason)
    summary(f"**Failed** (`{reason}`): {md_escape(message)}\n")
    sys.exit(1)


def md_escape(text: str) -> str:
    """Escape text for a markdown table cell or a line of prose."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for char in "`*_[]<>":
        out = out.replace(char, "\\" + char)
    return out


class Cancelled(KeyboardInterrupt):
    """SIGINT or SIGTERM: the job was cancelled, or reached its (or the step's) timeout.

    actions/runner (v2.336.0, src/Runner.Sdk/ProcessInvoker.cs, CancelAndKillProcessTree) sends
    SIGINT to the step's own process, SIGTERM 7.5 s later if it is still there, and kills the
    whole process tree 2.5 s after that. A ``KeyboardInterrupt``, so that ``except Exception``
    never swallows it and ``subprocess.run`` kills the child it was waiting for.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.signal = name


def _cancel(signum: int, frame: object) -> None:
    raise Cancelled(signal.Signals(signum).name)


SCRIPTS = Path(__file__).resolve().parent.parent  # actions/: where a bug of ours is


def internal_error(error: BaseException) -> ActionFailure:
    """An unexpected exception as one line: the script, the exception, where in our code it was raised.

    The traceback is printed (to stderr) only when the run is re-run with debug logging
    (``RUNNER_DEBUG=1``)."""
    if os.environ.get("RUNNER_DEBUG") == "1":
        traceback.print_exception(error)
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve().is_relative_to(SCRIPTS)]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    what = " ".join(f"{type(error).__name__}: {error}".split())[:400]
    script = Path(sys.argv[0]).name or "the action's script"
    return ActionFailure("internal-error", f"{script}: {what}{where}")


def main(run: Callable[[], object], on_failure: Callable[[ActionFailure], object] | None = None) -> None:
    """Run a step's script; every way it can end is a clear one, never a traceback.

    - an :class:`ActionFailure` is the documented failure (:func:`fail`: an ``::error``
      annotation, the ``failure-reason`` output, a line in the job summary, exit code 1);
    - SIGINT or SIGTERM (the job cancelled or timed out) raise :class:`Cancelled` wherever the
      script is, so its ``finally`` blocks run and the child it waits for is stopped; the step
      fails with ``cancelled``. Without a handler Python would die on SIGTERM and leave its
      children running;
    - any other exception is a bug: ``internal-error``, with the exception in one line.

    ``on_failure`` runs before the failure is reported, for the outputs a script sets on every
    failure (``applied=false``); an error there does not hide the failure.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _cancel)
    try:
        run()
        return
    except ActionFailure as failure:
        found = failure
    except KeyboardInterrupt as interrupt:
        name = interrupt.signal if isinstance(interrupt, Cancelled) else "SIGINT"
        found = ActionFailure("cancelled", f"{name} received: the job was cancelled or timed out")
    except Exception as error:  # noqa: BLE001 (the one place that turns a bug into a clear failure)
        found = internal_error(error)
    for sig in (signal.SIGINT, signal.SIGTERM):  # the failure is reported whole, whatever the runner sends
        signal.signal(sig, signal.SIG_IGN)
    if on_failure is not None:
        try:
            on_failure(found)
        except Exception as error:  # noqa: BLE001
            print(f"::warning::{_escape_data(internal_error(error).message)}", flush=True)
    fail(found.reason, found.message)


@contextlib.contextmanager
def stopping_child(proc: subprocess.Popen, what: str) -> Iterator[None]:
    """While ``proc`` runs, the runner's cancel is passed to it as one SIGINT, and waited for.

    For a child that must stop by itself: Terraform, on SIGINT, stops what it is doing, writes
    the state and releases the state lock ("Gracefully shutting down"); killed, it can leave the
    lock held and the state unwritten. Only the first signal is passed on (Terraform takes a
    second one as "exit immediately"); when the child has ended, :class:`Cancelled` is raised.
    """
    received: list[str] = []

    def forward(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if not received:
            # os.write, not print: the handler may run inside a write to sys.stdout
            with contextlib.suppress(OSError):
                os.write(1, f"{name} received: asking {what} to stop, and waiting for it\n".encode())
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        received.append(name)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
        if received:
            proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise Cancelled(received[0])


def workspace() -> Path:
    return Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())


# What a child process that runs code of a pull request (Terraform and its providers, a build)
# must not inherit: the runner's file commands, which write step outputs, the job summary,
# variables and PATH entries of later steps, and saved state; the OIDC token request, which mints
# cloud credentials; the runtime token and service URLs of the artifact and cache services; the
# inputs of the step (INPUT_*: a token may be one of them).
RUNNER_FILE_COMMANDS = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")
_WITHHELD_PREFIXES = ("ACTIONS_ID_TOKEN_REQUEST_", "ACTIONS_RUNTIME_", "ACTIONS_RESULTS_", "ACTIONS_CACHE_", "INPUT_")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a child that runs untrusted code, plus ``extra``, without
    the runner's file-command paths, the OIDC request variables, the runtime token and the inputs."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in RUNNER_FILE_COMMANDS and not name.startswith(_WITHHELD_PREFIXES)
    }
    env.update(extra or {})
    return env
