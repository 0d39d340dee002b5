"""An action's inputs, read one way: by the input's name, typed, and named in every error.

A composite step passes its inputs to its script through ``env:`` (``INPUT_ALLOW_TAG: ${{
inputs.allow-tag }}``), never as ``${{ }}`` inside ``run:``. Each reader takes the input's name as
action.yml spells it (``allow-tag``), reads ``INPUT_ALLOW_TAG`` (or ``var``, where a step names
the variable otherwise), and returns a typed value or raises ``ActionFailure("invalid-input",
...)`` whose message starts with the input's name and ends with the value as given, quoted on one
line::

    allow-tag must be true or false, not "maybe"

An empty input is its default, as GitHub passes an input that was left out. Values are stripped.
Standard library only.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import actionkit
import download
from actionkit import ActionFailure

SHA256_RE = re.compile(r"[0-9a-f]{64}")
DURATION_RE = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s?)?")  # ASCII digits only
TRUE = ("true", "yes", "1", "on")
FALSE = ("false", "no", "0", "off")
_SHOWN = 200  # characters of a value shown in a message


def variable(name: str) -> str:
    """The variable a step passes input ``name`` in: ``allow-tag`` is ``INPUT_ALLOW_TAG``."""
    return "INPUT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def quote(value: str) -> str:
    """``value`` in double quotes on one line (control characters escaped), cut when long."""
    shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "…"
    return json.dumps(shown, ensure_ascii=False)


def invalid(name: str, what: str, value: str) -> ActionFailure:
    """The one form of a malformed input: ``NAME must be WHAT, not "VALUE"``."""
    return ActionFailure("invalid-input", f"{name} must be {what}, not {quote(value)}")


def invalid_item(name: str, item: str, what: str) -> ActionFailure:
    """The form for one item of a list input: ``NAME: "ITEM" must be WHAT``."""
    return ActionFailure("invalid-input", f"{name}: {quote(item)} must be {what}")


def text(name: str, default: str = "", *, var: str | None = None) -> str:
    """A string input, stripped; ``default`` when empty."""
    return os.environ.get(var or variable(name), "").strip() or default


def boolean(name: str, default: bool = False, *, var: str | None = None) -> bool:
    """``true``/``false`` (also ``yes``/``no``, ``on``/``off``, ``1``/``0``, in any case)."""
    value = text(name, var=var)
    if not value:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise invalid(name, "true or false", value)


def integer(name: str, default: int | None = None, *, minimum: int | None = None, maximum: int | None = None,
            what: str = "", var: str | None = None) -> int | None:
    """A whole number (digits only, ``-`` first when ``minimum`` allows it) within the bounds."""
    value = text(name, var=var)
    if not value:
        return default
    if not what:
        what = "a whole number" + _bounds(minimum, maximum)
    if not re.fullmatch(r"-?[0-9]+" if minimum is None or minimum < 0 else r"[0-9]+", value):
        raise invalid(name, what, value)
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise invalid(name, what, value)
    return number


def number(name: str, default: float, *, minimum: float, maximum: float, what: str = "",
           var: str | None = None) -> float:
    """A decimal number within ``[minimum, maximum]``."""
    value = text(name, var=var)
    if not value:
        return default
    what = what or "a number" + _bounds(minimum, maximum)
    try:
        result = float(value)
    except ValueError:
        raise invalid(name, what, value) from None
    if not math.isfinite(result) or not minimum <= result <= maximum:
        raise invalid(name, what, value)
    return result


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f" of at least {minimum:g}"
    return f" of at most {maximum:g}" if maximum is not None else ""


def duration(name: str, default: str, *, var: str | None = None) -> float:
    """``900``, ``90s``, ``15m``, ``1h30m``: seconds, more than zero. A bare number is seconds."""
    value = text(name, default, var=var)
    match = DURATION_RE.fullmatch(value)
    if not match or not any(match.groups()):
        raise invalid(name, "a duration like 90s, 15m or 1h30m", value)
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise invalid(name, "longer than zero", value)
    return float(total)


def choice(name: str, options: Sequence[str], default: str, *, var: str | None = None) -> str:
    """One of ``options`` (given in lower case; the input in any case)."""
    value = text(name, default, var=var)
    if value.lower() not in options:
        listed = [f'"{option}"' for option in options]
        raise invalid(name, ", ".join(listed[:-1]) + " or " + listed[-1] if len(listed) > 1 else listed[0], value)
    return value.lower()


def matching(name: str, pattern: str | re.Pattern[str], what: str, default: str = "", *,
             var: str | None = None) -> str:
    """A string the whole of which matches ``pattern``; ``what`` says what it must be."""
    value = text(name, default, var=var)
    if not re.fullmatch(pattern, value):
        raise invalid(name, what, value)
    return value


def sha256(name: str, *, var: str | None = None) -> str:
    """A SHA-256 as 64 hexadecimal digits, lower-cased; empty when not given."""
    value = text(name, var=var).lower()
    if value and not SHA256_RE.fullmatch(value):
        raise invalid(name, "64 hexadecimal digits", value)
    return value


def url(name: str, default: str = "", *, loopback_http: bool = False, base: bool = True,
        var: str | None = None) -> str:
    """An ``https://`` URL (:func:`download.allowed`); plain ``http://`` only to a loopback address,
    and only where ``loopback_http`` (a mirror on the runner itself, a test). A ``base`` URL, to
    which paths are appended, has no query or fragment and loses its trailing ``/``."""
    value = text(name, default, var=var)
    if not value:
        return ""
    if not download.allowed(value, loopback_http=loopback_http, base=base):
        what = "an https:// URL" + (" (plain http only for loopback)" if loopback_http else "")
        raise invalid(name, what, value)
    return value.rstrip("/") if base else value


def items(name: str, *, separators: str = "\n", comments: bool = True, var: str | None = None) -> list[str]:
    """A list input: items separated by newlines or any of ``separators``, stripped, blanks dropped,
    and (``comments``) lines that start with ``#`` dropped."""
    found: list[str] = []
    for line in os.environ.get(var or variable(name), "").splitlines():
        if comments and line.strip().startswith("#"):
            continue
        found += [item.strip() for item in re.split(f"[{re.escape(separators)}]", line) if item.strip()]
    return found


def relative_path(name: str, default: str = ".", *, var: str | None = None) -> str:
    """A path inside the workspace, relative to it, as clean POSIX (``.`` for the workspace itself).

    Absolute paths and ``..`` are refused; ``\\`` is read as ``/``. Where it leads, symbolic links
    included, is checked by :func:`locate`."""
    value = text(name, default, var=var)
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.search(r"[\x00-\x1f]", value):
        raise invalid(name, "a path inside the workspace", value)
    return str(path)


def locate(name: str, relative: str, *, kind: str = "", missing: str = "invalid-input") -> Path:
    """Where the workspace's ``relative`` path leads, symbolic links followed: it must stay inside
    the workspace and, with ``kind`` (``dir`` or ``file``), be one; a path that is not there
    fails with the reason ``missing``."""
    root = actionkit.workspace().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise invalid(name, "a path inside the workspace", relative)
    if kind and not path.exists():
        raise ActionFailure(missing, f"{name} {quote(relative)} does not exist")
    if (kind == "dir" and not path.is_dir()) or (kind == "file" and not path.is_file()):
        raise ActionFailure(missing, f"{name} {quote(relative)} is not a {'directory' if kind == 'dir' else 'file'}")
    return path


def workspace_path(name: str, default: str = ".", *, kind: str = "", missing: str = "invalid-input",
                   var: str | None = None) -> Path:
    """:func:`relative_path`, then :func:`locate`: the absolute path, inside the workspace."""
    return locate(name, relative_path(name, default, var=var), kind=kind, missing=missing)
