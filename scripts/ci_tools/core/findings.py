"""The data model shared by every command: severities, locations, findings and fixes, and
:func:`finalize`, the one post-processing of a command's findings before they are emitted."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ci_tools.core.config import Config

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


def finalize(findings: Iterable[Finding], config: Config | None = None, sources: Iterable[Any] = (), *,
             known_ids: Collection[str] = (), alarms: Iterable[Finding] = ()) -> list[Finding]:
    """What every command does to its findings before :func:`ci_tools.core.output.emit`, in one order:

    1. the configuration's per-check ``enabled`` and ``severity`` (:func:`configure`; ``config`` None:
       none applies, as for ``policy``, whose notes the pull request's configuration must not touch);
    2. the ``# ci-tools: ignore[id] reason`` comments of the ``sources`` that are files of the
       repository (:func:`apply_ignores`; ``known_ids`` are the ids an ignore comment may name);
    3. ``alarms`` are added: findings that neither configuration nor an ignore comment may silence
       or lower (a moved tag of an immutable release), since a pull request can write both;
    4. one order (:func:`sort_findings`), duplicates dropped.
    """
    sources = list(sources)
    out = configure(findings, config) if config is not None else list(findings)
    files = [s for s in sources if not getattr(s, "pseudo", False) and hasattr(s, "position")]
    if files:
        out = apply_ignores(out, files, known_ids)
    return sort_findings([*out, *alarms], sources)


def configure(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """Apply per-check enablement and severity overrides."""
    out = []
    for f in findings:
        cc = config.check(f.check)
        if not cc.enabled:
            continue
        if cc.severity is not None and cc.severity != f.severity:
            f = Finding(f.check, cc.severity, f.message, f.location, f.fixes)
        out.append(f)
    return out


def apply_ignores(findings: list[Finding], docs: Iterable[Any], known_ids: Collection[str]) -> list[Finding]:
    """Drop findings suppressed by ``# ci-tools: ignore[id] reason`` on their line; report bad ignores.

    ``docs`` are sources with ``display``, ``text`` and ``position(offset) -> (line, col)`` (a
    :class:`~ci_tools.gha.source.Document`)."""
    ignores: dict[tuple[str, int], set[str]] = {}
    problems: list[Finding] = []
    for doc in docs:
        if "ci-tools:" not in doc.text:
            continue
        for m in IGNORE_RE.finditer(doc.text):
            line, col = doc.position(m.start())
            ids = [part.strip() for part in m["ids"].split(",") if part.strip()]
            loc = Location(doc.display, line, col, line, col + len(m.group(0).rstrip()))
            for check_id in ids:
                if check_id not in known_ids:
                    problems.append(Finding("invalid-ignore", Severity.ERROR,
                                            f'unknown check "{check_id}" in ignore comment; '
                                            "use an id from `ci-tools check --list`", loc))
            if not ids:
                problems.append(Finding("invalid-ignore", Severity.ERROR,
                                        "ignore comment names no check; write ignore[check-id] reason", loc))
            if not m["reason"].strip():
                problems.append(Finding("invalid-ignore", Severity.ERROR,
                                        "ignore comment gives no reason; say why after the brackets", loc))
                continue  # an ignore without a reason does not suppress
            ignores.setdefault((doc.display, line), set()).update(ids)
    kept = [f for f in findings
            if f.check not in ignores.get((f.location.path, f.location.line), set())]
    return kept + problems


def sort_findings(findings: Iterable[Finding], sources: Iterable[Any] = ()) -> list[Finding]:
    """Files by path, line and column; then what is no file (a title, a commit, a branch name: the
    ``pseudo`` sources) in the order the command gave them (a range's commits oldest first)."""
    rank = {s.display: i for i, s in enumerate((s for s in sources if getattr(s, "pseudo", False)), 1)}
    unique = {(f.check, f.location.path, f.location.line, f.location.col, f.message): f for f in findings}
    return sorted(unique.values(), key=lambda f: (rank.get(f.location.path, 0), f.sort_key()))
