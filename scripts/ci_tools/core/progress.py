"""A progress counter on stderr for people waiting at a terminal; silent in CI, logs and pipes."""

from __future__ import annotations

import sys


class Progress:
    """A one-line counter on stderr (``resolving repositories 3/12``), for people waiting at a terminal.

    Shown only when stderr is a terminal, outside CI (``CI`` set to anything but ``false``/``0``, or
    ``GITHUB_ACTIONS=true``) and for more than one item; the line is erased when done, so what follows
    (findings, the summary) starts on a clean line. Logs and pipes never see it.
    """

    def __init__(self, total: int, label: str) -> None:
        self.enabled = sys.stderr.isatty() and not in_ci() and total > 1
        self.total, self.done, self.label = total, 0, label

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            sys.stderr.write(f"\r{self.label} {self.done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * (len(self.label) + 20) + "\r")
            sys.stderr.flush()


def in_ci() -> bool:
    import os

    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false") or os.environ.get("GITHUB_ACTIONS") == "true"
