"""Where the real release-please from npm is installed, for the tests that compare against it.

The version is the one googleapis/release-please-action, as pinned in actions/release-please,
bundles (16.14.1 for v4.1.4; tests/actions/release-please/test_shipped_version.py holds them
together): the release-please that cuts the releases is the one the tests run, so an option that
only a newer release-please knows cannot pass here and be ignored in production. The comparison of
``ci-tools commits``' semver bump (tests/hygiene/test_bump_oracle.py) runs on it too, since that
bump predicts the release this version computes.

Looked up in order: ``$RELEASE_PLEASE_DIR`` (the package's directory), then
``<repository>/.cache/npm/node_modules/release-please``, installed there with ``npm ci`` from the
lock file ``tests/npm/package-lock.json`` (versions and integrity hashes pinned) by ``.ci/run``, or
by the first test that needs it. A failed install fails the test with npm's message: it is a real
part of the suite, never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREFIX = REPO / ".cache" / "npm"
DEFAULT = PREFIX / "node_modules" / "release-please"
LOCK = REPO / "tests" / "npm"
VERSION = json.loads((LOCK / "package.json").read_text(encoding="utf-8"))["dependencies"]["release-please"]


def _install() -> str:
    """``npm ci`` into ``.cache/npm`` from the committed lock file; an error message, or ''."""
    if shutil.which("npm") is None:
        return "npm is not on PATH"
    PREFIX.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(LOCK / name, PREFIX / name)
    done = subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund", "--prefix", str(PREFIX)],
                          capture_output=True, text=True, timeout=600)
    return "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["npm ci failed"])[-1]


def release_please_dir() -> Path:
    candidates = [Path(os.environ["RELEASE_PLEASE_DIR"])] if os.environ.get("RELEASE_PLEASE_DIR") else []
    candidates.append(DEFAULT)
    for candidate in candidates:
        if (candidate / "build" / "src" / "commit.js").is_file():
            return candidate
    problem = _install()
    if not problem and (DEFAULT / "build" / "src" / "commit.js").is_file():
        return DEFAULT
    pytest.fail(f"release-please {VERSION} could not be installed with `npm ci --prefix .cache/npm` from "
                f"tests/npm: {problem or 'nothing installed'} (or set RELEASE_PLEASE_DIR)")
