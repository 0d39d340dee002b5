"""Reporters: one per output format behind one mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TextIO

from ci_tools.model import Finding


class SourceLines(Protocol):
    def __call__(self, path: str, line: int) -> str | None: ...


Reporter = Callable[[list[Finding], TextIO, SourceLines], None]

FORMATS = ("text", "json", "sarif", "github")


def get(name: str) -> Reporter:
    if name == "text":
        from ci_tools.report.text import render
    elif name == "json":
        from ci_tools.report.json import render
    elif name == "sarif":
        from ci_tools.report.sarif import render
    elif name == "github":
        from ci_tools.report.github import render
    else:
        raise KeyError(name)
    return render


def no_source(path: str, line: int) -> str | None:
    return None
