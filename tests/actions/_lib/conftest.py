"""The toolkit of the actions' scripts (actions/_lib), imported as the scripts import it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[3] / "actions" / "_lib"
sys.path.insert(0, str(LIB))


@pytest.fixture
def kit():
    """``(actionkit, inputs, download)``, the modules every action script imports."""
    import actionkit
    import download
    import inputs

    return actionkit, inputs, download
