"""Fixtures for the canary action's tests; the helpers themselves are in canary_world.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # canary_world, kubectl_standin

import canary_world  # noqa: E402


@pytest.fixture
def world(tmp_path: Path) -> canary_world.World:
    return canary_world.World(tmp_path / "world")


@pytest.fixture
def release():
    served = canary_world.Release()
    yield served
    served.close()


@pytest.fixture(scope="session")
def canary():
    return canary_world.load_canary()
