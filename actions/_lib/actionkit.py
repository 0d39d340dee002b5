"""What every action script here needs from the runner: outputs, summaries, annotations, failures.

Standard library only: composite actions run with the runner's ``python3``. A script beside an
``action.yml`` imports it with::

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
    import actionkit
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import NoReturn


class ActionFailure(Exception):
    """A failure with a reason from the action's documented vocabulary and one line saying why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def env(name: str, default: str = "") -> str:
    """An input passed through ``env:`` (empty string when unset), stripped."""
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
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


def set_env(name: str, value: object) -> None:
    _append("GITHUB_ENV", _keyed(name, str(value)))


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


def main(run) -> None:
    """Call ``run()``; an :class:`ActionFailure` becomes :func:`fail`, never a traceback."""
    try:
        run()
    except ActionFailure as failure:
        fail(failure.reason, failure.message)
    except KeyboardInterrupt:
        fail("cancelled", "interrupted")


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
