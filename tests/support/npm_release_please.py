"""Where the real release-please from npm is installed, for the tests that compare against it.

Looked up in order: ``$RELEASE_PLEASE_DIR`` (the package's directory), then
``<repository>/.cache/npm/node_modules/release-please``, where ``.ci/run`` installs it
(``npm install --prefix .cache/npm release-please@VERSION``). A missing install fails the test
with the command that makes it: it is a real part of the suite, never skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSION = "17.11.2"
DEFAULT = REPO / ".cache" / "npm" / "node_modules" / "release-please"


def release_please_dir() -> Path:
    candidates = [Path(os.environ["RELEASE_PLEASE_DIR"])] if os.environ.get("RELEASE_PLEASE_DIR") else []
    candidates.append(DEFAULT)
    for candidate in candidates:
        if (candidate / "build" / "src" / "commit.js").is_file():
            return candidate
    pytest.fail(f"release-please is not installed; run `npm install --prefix .cache/npm release-please@{VERSION}` "
                "(or set RELEASE_PLEASE_DIR)")
