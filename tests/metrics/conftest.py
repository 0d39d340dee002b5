"""Fixtures of ``ci-tools metrics``: a busy repository's history behind the GitHub API double.

The scenario (:func:`support.pipelines.busy_repository`) is built once per session; each test gets
its own double serving it (and may add repositories or faults), its own cache and environment.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from support.github_api import GitHubDouble
from support.pipelines import busy_repository

UNTIL = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
UNTIL_TEXT = "2026-03-02T12:00:00Z"
TOKEN = "ghp_" + "M3tr1csT0ken" * 3


@pytest.fixture(scope="session")
def scenario():
    return busy_repository("org/app", until=UNTIL, runs=240)


@pytest.fixture
def api(scenario):
    with GitHubDouble() as double:
        double.add_repo("org/app", actions=scenario.pipelines.data)
        yield double


@pytest.fixture
def env(api, tmp_path):
    """Environment for a CLI run against the double: fast retries, its own cache, no terminal."""
    return {"GITHUB_API_URL": api.url, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CI_TOOLS_HTTP_BACKOFF": "0.01",
            "CI_TOOLS_HTTP_TIMEOUT": "5", "CI": "true"}
