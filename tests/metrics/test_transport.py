"""The GitHub API client that metrics shares with pin and report, on what the Actions API adds.

GitHub answers too many concurrent requests with a *secondary* rate limit: 403 (or 429) with
``Retry-After`` while the hourly quota is far from spent (``X-RateLimit-Remaining`` is not 0). The
client waits and retries; a large artifact is read no further than the bound the caller gives.
"""

from __future__ import annotations

import pytest

from ci_tools.gha.resolve.base import ResolveError
from ci_tools.gha.resolve.github import GitHubResolver
from support.github_api import GitHubDouble


@pytest.fixture
def double():
    with GitHubDouble() as d:
        d.add_repo("org/app")
        yield d


def test_a_secondary_rate_limit_is_waited_out(double):
    double.fail(r"/repos/org/app\Z", "secondary-ratelimit", times=2, value=1)
    client = GitHubResolver(double.url, backoff=0.01, max_wait=5)
    data, _ = client.get("/repos/org/app")
    assert data["default_branch"] == "main"
    assert double.count(r"/repos/org/app\Z") == 3


def test_a_secondary_rate_limit_longer_than_the_wait_allowed_fails_clearly(double):
    double.fail(r"/repos/org/app\Z", "secondary-ratelimit", times=5, value=600)
    client = GitHubResolver(double.url, backoff=0.01, max_wait=5)
    with pytest.raises(ResolveError, match="secondary rate limit"):
        client.get("/repos/org/app")
    assert double.count(r"/repos/org/app\Z") == 1


def test_an_answer_larger_than_the_bound_is_not_read(double):
    from support.github_api import ActionsData

    double.repos["org/app"].actions = ActionsData(
        artifacts=[{"id": 5, "name": "junit", "expired": False, "created_at": "2026-01-01T00:00:00Z",
                    "workflow_run": {"id": 1}}], blobs={5: b"x" * 300_000})
    client = GitHubResolver(double.url, backoff=0.01)
    body, _ = client.get("/repos/org/app/actions/artifacts/5/zip", raw=True, max_bytes=400_000)
    assert len(body) == 300_000
    with pytest.raises(ResolveError, match="larger than 100000 bytes"):
        client.get("/repos/org/app/actions/artifacts/5/zip", raw=True, max_bytes=100_000)
