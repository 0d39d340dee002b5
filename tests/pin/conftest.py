"""Fixtures for pin, verify and update (the world itself: :mod:`support.pinworld`)."""

from __future__ import annotations

import pytest

from support.pinworld import build_world


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def api(world):
    double = world.double()
    with double:
        yield double


@pytest.fixture
def env(api, tmp_path):
    """Environment for a CLI run against the double: fast retries, its own cache."""
    return {"GITHUB_API_URL": api.url, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CI_TOOLS_HTTP_BACKOFF": "0.01",
            "CI_TOOLS_HTTP_TIMEOUT": "2", "CI": "true", "GITHUB_SERVER_URL": "https://github.invalid"}

