"""The data model shared by every command: severities, locations, findings and fixes."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

# ``# ci-tools: ignore[id, ...] reason``: the comment that silences a finding on its line or the next.
# One grammar for the engine that applies it and for the policy notes that list new ones.
IGNORE_RE = re.compile(r"#\s*ci-tools:\s*ignore\[(?P<ids>[^\]]*)\](?P<reason>[^#\n\r]*)")


class Severity(enum.IntEnum):
    """Ordered so that ``severity >= fail_level`` decides the exit code."""

    NOTE = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f'unknown severity "{text}"; use one of note, warning, error') from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Location:
    """A span in a file. Lines and columns are 1-based; offsets are 0-based character offsets.

    The conversion from PyYAML's 0-based marks happens in exactly one place:
    :func:`ci_tools.gha.source.location_of`.
    """

    path: str
    line: int = 1
    col: int = 1
    end_line: int = 0
    end_col: int = 0
    start_offset: int = -1
    end_offset: int = -1

    def __post_init__(self) -> None:
        if self.end_line == 0:
            object.__setattr__(self, "end_line", self.line)
        if self.end_col == 0:
            object.__setattr__(self, "end_col", self.col)


@dataclass(frozen=True)
class Fix:
    """A replacement of the character span ``[start, end)`` of a file's text."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str
    location: Location
    fixes: tuple[Fix, ...] = field(default=(), compare=False)

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.col, self.check, self.message)


def apply_fixes(text: str, fixes: list[Fix]) -> str:
    """Apply non-overlapping fixes back to front; overlapping ones raise ``ValueError``."""
    ordered = sorted(fixes, key=lambda f: (f.start, f.end))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise ValueError(f"overlapping fixes at offsets {before.start} and {after.start}")
    pieces, pos = [], 0  # one pass, joined once: linear in the text however many fixes it takes
    for fix in ordered:
        pieces.append(text[pos:fix.start])
        pieces.append(fix.replacement)
        pos = fix.end
    pieces.append(text[pos:])
    return "".join(pieces)
