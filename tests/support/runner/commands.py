"""File commands and workflow commands: how a step talks back to the runner.

File commands: each step gets fresh GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY
(and GITHUB_STATE) files; after it ends, ``name=value`` and ``name<<DELIM`` heredoc lines become
the step's outputs and the job's exported variables, GITHUB_PATH lines are prepended to PATH for
later steps, and the summary is appended to the job summary. A malformed file fails the step with
the runner's message ("Invalid format ...", "Matching delimiter not found ...").

Workflow commands: ``::name props::data`` lines, read from stdout and stderr alike as the runner's
command manager does (``%0A``/``%0D``/``%25`` unescaped, ``%3A``/``%2C`` too in properties):
``error``/``warning``/``notice`` annotations, ``add-mask``, ``stop-commands`` up to its token,
the deprecated ``set-output`` (with its warning), and ``set-env``/``add-path`` refused as disabled.
"""

from __future__ import annotations

import re
from pathlib import Path

from .state import Run


def parse_file_command(text: str) -> dict[str, str]:
    """``name=value`` and ``name<<DELIM`` ... ``DELIM`` lines, as GITHUB_OUTPUT / GITHUB_ENV use."""
    out: dict[str, str] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, hd = line.find("="), line.find("<<")
        if eq >= 0 and (hd < 0 or eq < hd):
            key, value = line[:eq], line[eq + 1:]
        elif hd >= 0:
            key, delim = line[:hd], line[hd + 2:]
            if not key or not delim:
                raise ValueError(f"Invalid format '{line}'")
            body = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"Invalid value. Matching delimiter not found '{delim}'")
            i += 1
            value = "\n".join(body)
        else:
            raise ValueError(f"Invalid format '{line}'")
        if not key:
            raise ValueError(f"Invalid format '{line}'. Name must not be empty")
        out[key] = value
    return out


def apply_files(run: Run, files: dict[str, Path], outputs: dict[str, str]) -> str | None:
    """Read the step's GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY; return an error message if malformed."""
    try:
        outputs.update(parse_file_command(files["GITHUB_OUTPUT"].read_text(encoding="utf-8")))
        run.exported.update(parse_file_command(files["GITHUB_ENV"].read_text(encoding="utf-8")))
    except ValueError as exc:
        return str(exc)
    for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines():
        if line.strip():
            if line in run.prepend_path:
                run.prepend_path.remove(line)
            run.prepend_path.append(line)
    run.summary.append(files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"))
    return None


_COMMAND = re.compile(r"^::([^\s:]+)(?: ([^:]*))?::(.*)$")


def _unescape(text: str, prop: bool = False) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else []) + [("%25", "%")]
    for a, b in pairs:
        text = text.replace(a, b)
    return text


def workflow_commands(run: Run, text: str, outputs: dict[str, str]) -> None:
    """Act on ``::cmd props::data`` lines the way the runner's command manager does."""
    stop_token = None
    for line in text.splitlines():
        m = _COMMAND.match(line.lstrip())
        if not m:
            continue
        name, props, data = m.group(1).lower(), m.group(2) or "", _unescape(m.group(3))
        if stop_token is not None:
            if name == stop_token.lower():
                stop_token = None
            continue
        if name == "error":
            run.errors.append(data)
        elif name == "warning":
            run.warnings.append(data)
        elif name == "notice":
            run.notices.append(data)
        elif name == "add-mask" and data.strip():
            run.masks.append(data.strip())
        elif name == "stop-commands":
            stop_token = data
        elif name == "set-output":
            key = dict(p.split("=", 1) for p in props.split(",") if "=" in p).get("name", "")
            outputs[_unescape(key, prop=True)] = data
            run.warnings.append("The `set-output` command is deprecated and will be disabled soon.")
        elif name in ("set-env", "add-path"):
            run.errors.append(f"The `{name}` command is disabled.")
