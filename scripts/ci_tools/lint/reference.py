"""The checks reference (docs/checks.md): its sections by finding id, for --explain and SARIF help.

The page documents the checks of ``ci-tools check`` and, after them, the findings of the other
commands (pin, verify, update, commits, branch, secrets), each under a ``## `id` `` heading."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path


@lru_cache(maxsize=1)
def _text() -> str:
    try:  # packaged copy (a wheel built from this repository)
        return resources.files("ci_tools.lint").joinpath("reference.md").read_text("utf-8")
    except (FileNotFoundError, OSError):
        pass
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "docs" / "checks.md"
        if candidate.is_file():
            return candidate.read_text("utf-8")
    return ""


_ID_HEADING = re.compile(r"^## `([a-z0-9-]+)`\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def sections() -> dict[str, str]:
    """``## `id` `` sections: each from its heading to the next heading of level one or two.

    Headings inside fenced code blocks are text of an example (a markdown example shows markdown),
    not the end of a section.
    """
    out: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    fence: str | None = None

    def close() -> None:
        if current is not None:
            out[current] = "\n".join(lines).rstrip() + "\n"

    for line in _text().splitlines():
        m = _FENCE.match(line)
        if m and (fence is None or (m[1][0] == fence[0] and len(m[1]) >= len(fence) and not line.strip()[len(m[1]):])):
            fence = m[1] if fence is None else None
        elif fence is None and (line.startswith("# ") or line.startswith("## ")):
            close()
            heading = _ID_HEADING.match(line)
            current, lines = (heading[1], []) if heading else (None, [])
        if current is not None:
            lines.append(line)
    close()
    return out


def section(check_id: str) -> str | None:
    return sections().get(check_id)
