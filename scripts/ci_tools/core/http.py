"""Reading an HTTP answer with a bound: a server (a proxy, a hostile mirror) must not make a command
hold an answer of any size in memory. Shared by the GitHub API client and the OTLP exporter."""

from __future__ import annotations

from typing import Any


class TooLarge(Exception):
    """The answer is longer than the bound; ``declared`` is its Content-Length when it stated one."""

    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


def read_bounded(resp: Any, max_bytes: int) -> bytes:
    """The body of a streamed ``requests`` response, refusing (and closing) one longer than
    ``max_bytes``: at once when its Content-Length says so, else as soon as the bytes read pass it."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        resp.close()
        raise TooLarge(int(declared))
    chunks, size = [], 0
    for chunk in resp.iter_content(65536):
        size += len(chunk)
        if size > max_bytes:
            resp.close()
            raise TooLarge(None)
        chunks.append(chunk)
    return b"".join(chunks)
