"""Markdown: escaping text that a pull request chose before it lands in a page GitHub renders."""

from __future__ import annotations

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~"})


def md_escape(text: str) -> str:
    return text.translate(_MD_SPECIAL)
