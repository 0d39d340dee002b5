"""What every HTTP client of :mod:`ci_tools.gha.resolve` shares: the time budget of a retry loop, telling
a refused connection or an unknown host (which no retry cures) from a transient failure, and advice
on what to check, so that each message names the URL and the next step.

``CI_TOOLS_HTTP_BUDGET`` (seconds, default 150) bounds each request's retry loop: its attempts, the
waits between them and the waits a rate limit asks for; the loop gives up, naming the budget, as soon
as the next wait would overrun it. ``CI_TOOLS_HTTP_TIMEOUT`` bounds each attempt.
"""

from __future__ import annotations

import os
import socket
import time

DEFAULT_BUDGET = 150.0


def budget() -> float:
    try:
        return max(0.1, float(os.environ.get("CI_TOOLS_HTTP_BUDGET", DEFAULT_BUDGET)))
    except ValueError:
        return DEFAULT_BUDGET


class Deadline:
    """The end of one retry loop's time budget."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = budget() if seconds is None else seconds
        self.start = time.monotonic()

    def remaining(self) -> float:
        return self.start + self.seconds - time.monotonic()

    def allows(self, wait: float) -> bool:
        return wait < self.remaining()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def text(self) -> str:
        return f"the time budget of {self.seconds:g} s for one request (CI_TOOLS_HTTP_BUDGET)"


def unreachable(exc: BaseException) -> str | None:
    """``"connection refused"`` or ``"unknown host"`` when ``exc`` (from requests or the socket layer)
    says the server cannot be reached at all, a failure no retry cures; None for anything else."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, socket.gaierror):
            return "unknown host"
        todo.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    text = str(exc)
    if "Connection refused" in text or "[Errno 111]" in text:
        return "connection refused"
    if "Name or service not known" in text or "Failed to resolve" in text or "nodename nor servname" in text:
        return "unknown host"
    return None


def advice(problem: str, setting: str) -> str:
    """What to check after ``problem`` (a failure kind); ``setting`` names what chose the URL."""
    if problem.startswith("HTTP 5"):
        return "the server kept failing: check its status page, or retry later"
    if "timed out" in problem:
        return f"check the network and {setting}, or raise CI_TOOLS_HTTP_TIMEOUT"
    if "truncated" in problem or "dropped" in problem or "invalid JSON" in problem:
        return "the answers kept breaking off: check proxies and the network between here and the server"
    if "rate limit" in problem:
        return "wait for the rate limit to reset, or set GITHUB_TOKEN for a higher limit"
    return f"check {setting} and the network"
