"""Times of the metrics domain: UTC epoch seconds inside, ISO 8601 (``2026-03-02T12:00:00Z``) outside."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ci_tools.metrics.errors import MetricsUsageError

_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>m|min|h|d|w)\Z", re.I)
_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, option: str) -> float:
    """``90m``, ``12h``, ``30d``, ``2w`` -> seconds; anything else is a usage error naming ``option``."""
    m = _DURATION.match(text.strip())
    if not m or float(m["n"]) <= 0:
        raise MetricsUsageError(f'{option} "{text}" is not a duration; use a number with m, h, d or w, e.g. "30d"')
    return float(m["n"]) * _SECONDS[m["unit"].lower()]


def parse_moment(text: str, option: str) -> float:
    """An ISO 8601 date or date-time (UTC unless it says otherwise) -> epoch seconds."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MetricsUsageError(f'{option} "{text}" is not a date; use e.g. "2026-03-01" or '
                                '"2026-03-01T12:00:00Z"') from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_since(text: str, until: float) -> float:
    """``--since``: a duration back from ``until`` (``30d``) or a moment."""
    if _DURATION.match(text.strip()):
        return until - parse_duration(text, "--since")
    return parse_moment(text, "--since")


def api_time(value: object) -> float | None:
    """A timestamp of the GitHub API (``2026-03-02T12:00:00Z``) -> epoch seconds; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def short_day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%m-%d")
