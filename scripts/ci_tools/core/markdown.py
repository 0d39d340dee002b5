"""Markdown: escaping text that a pull request chose before it lands in a page GitHub renders.

The one module for it (the metrics domain's :func:`ci_tools.metrics.markdown.text` goes further for
values read from the API: mentions, issue references, truncation):

- :func:`md_escape`: prose, every character that can start Markdown syntax escaped;
- :func:`table_cell`: text in a table cell: line breaks folded, ``|`` escaped, HTML outside code spans
  shown as text (``<sha>`` would otherwise vanish as a tag);
- :func:`code_span`: a value shown as code, whatever backticks it holds, safe in a table cell.
"""

from __future__ import annotations

import re

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~"})


def md_escape(text: str) -> str:
    return text.translate(_MD_SPECIAL)


def table_cell(text: str | None) -> str:
    """Markdown for one table cell: line breaks folded, ``|`` escaped, HTML outside code shown as text."""
    folded = " ".join((text or "").split())
    parts = re.split(r"(`+[^`]*?`+)", folded)  # code spans stay as they are, but for the pipe
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            part = part.replace("<", "&lt;")
        out.append(part.replace("|", "\\|"))
    return "".join(out)


def code_span(value: str, *, table: bool = True) -> str:
    """``value`` as a code span, line breaks folded, fenced by more backticks than it holds in a row.

    In a table cell (``table``, the default) ``|`` becomes ``\\|``, which GFM needs even inside code;
    elsewhere, such as a list item, it stays as written."""
    value = " ".join(value.splitlines()) if ("\n" in value or "\r" in value) else value
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    span = f"{fence}{pad}{value}{pad}{fence}"
    return span.replace("|", "\\|") if table else span
