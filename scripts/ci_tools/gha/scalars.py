"""Positions inside a scalar: from an offset in a scalar's value to an offset in the file's text.

A scalar's value is not its source text: a block scalar loses its indentation, a folded or plain
scalar turns line breaks into spaces, a quoted one loses its escapes. A piece of the value that
does not span lines appears verbatim in the source, so its k-th occurrence in the value is its
k-th occurrence in the node's source span. That is exact for the ``${{`` of an expression and for
a command on one line; when the counts disagree (an escape made or hid an occurrence) the
position falls back to the start of the scalar rather than guessing.
"""

from __future__ import annotations

from ci_tools.core.findings import Location
from ci_tools.gha.source import Document, ScalarNode


def _occurrences(text: str, needle: str, limit: int | None = None) -> list[int]:
    found, i = [], 0
    while needle:
        j = text.find(needle, i)
        if j < 0 or (limit is not None and j >= limit):
            break
        found.append(j)
        i = j + 1
    return found


def locate(doc: Document, node: ScalarNode, value_start: int, value_end: int) -> Location:
    """Location of ``node.value[value_start:value_end]`` in the file (the node's start if unsure)."""
    whole = doc.location(node)
    piece = node.value[value_start:value_end]
    if not piece or "\n" in piece:
        piece = node.value[value_start:value_start + 3] if not piece else piece.split("\n", 1)[0]
        if not piece:
            return whole
    raw = doc.text[whole.start_offset:whole.end_offset]
    found = _kth(node.value, raw, piece, value_start)
    if found is not None:
        start = whole.start_offset + found
        return doc.span(start, start + len(piece))
    if piece.startswith("${{") and len(piece) > 3:
        # an escape inside the expression (a quoted scalar's '' or \") changed its text: find its
        # "${{" instead and end the span at the "}}" that closes it on the same line
        found = _kth(node.value, raw, "${{", value_start)
        if found is not None:
            start = whole.start_offset + found
            line_end = doc.text.find("\n", start)
            close = doc.text.find("}}", start, line_end if line_end >= 0 else len(doc.text))
            return doc.span(start, close + 2 if close >= 0 else start + 3)
    return whole


def _kth(value: str, raw: str, piece: str, value_start: int) -> int | None:
    """Offset in ``raw`` of the occurrence of ``piece`` that starts at ``value_start`` in ``value``."""
    k = len(_occurrences(value, piece, value_start))
    in_text = _occurrences(raw, piece)
    if len(in_text) != len(_occurrences(value, piece)) or k >= len(in_text):
        return None
    return in_text[k]
