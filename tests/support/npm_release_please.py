"""Where the real release-please from npm is installed, for the tests that compare against it.

The version is the one googleapis/release-please-action, as pinned in actions/release-please,
bundles (16.14.1 for v4.1.4; tests/actions/release-please/test_shipped_version.py holds them
together): the release-please that cuts the releases is the one the tests run, so an option that
only a newer release-please knows cannot pass here and be ignored in production. The comparison of
``ci-tools commits``' semver bump (tests/hygiene/test_bump_oracle.py) runs on it too, since that
bump predicts the release this version computes.

Looked up in order: ``$RELEASE_PLEASE_DIR`` (the package's directory), then
``<repository>/.cache/npm/node_modules/release-please``, installed there with ``npm ci`` from the
lock file ``tests/npm/package-lock.json`` (versions and integrity hashes pinned) by ``make test``'s
bootstrap (``scripts/bootstrap-test-deps.sh``). A test never installs it: when it is missing, the
test fails with the command that does. It is a real part of the suite, never skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREFIX = REPO / ".cache" / "npm"
DEFAULT = PREFIX / "node_modules" / "release-please"
LOCK = REPO / "tests" / "npm"
VERSION = json.loads((LOCK / "package.json").read_text(encoding="utf-8"))["dependencies"]["release-please"]


def release_please_dir() -> Path:
    candidates = [Path(os.environ["RELEASE_PLEASE_DIR"])] if os.environ.get("RELEASE_PLEASE_DIR") else []
    candidates.append(DEFAULT)
    for candidate in candidates:
        if (candidate / "build" / "src" / "commit.js").is_file():
            return candidate
    pytest.fail(f"release-please {VERSION} is not installed in {PREFIX}: run `make test-deps` "
                "(scripts/bootstrap-test-deps.sh: `npm ci --prefix .cache/npm` from tests/npm), "
                "or set RELEASE_PLEASE_DIR")
