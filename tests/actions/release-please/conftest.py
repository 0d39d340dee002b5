"""Fixtures for the release-please action (defined in rp_world.py, importable by the tests by that name)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # rp_world, rp_action_standin

from rp_world import origin, script  # noqa: E402,F401
