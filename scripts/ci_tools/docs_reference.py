"""The checks reference (docs/checks.md): its sections by check id, for --explain and SARIF help."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path


@lru_cache(maxsize=1)
def _text() -> str:
    try:  # packaged copy (a wheel built from this repository)
        return resources.files("ci_tools").joinpath("checks.md").read_text("utf-8")
    except (FileNotFoundError, OSError):
        pass
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "docs" / "checks.md"
        if candidate.is_file():
            return candidate.read_text("utf-8")
    return ""


def sections() -> dict[str, str]:
    """``## `check-id` `` headings and their text up to the next such heading."""
    out: dict[str, str] = {}
    parts = re.split(r"^## `([a-z0-9-]+)`\s*$", _text(), flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        out[parts[i]] = f"## `{parts[i]}`\n{parts[i + 1].rstrip()}\n"
    return out


def section(check_id: str) -> str | None:
    return sections().get(check_id)
