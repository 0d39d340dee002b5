"""A local wheel directory for the service repository's pip installs in the act tests.

The service's ``requirements.txt`` (``tests/workflows/service/requirements.txt``: ruff, mypy,
pytest and the build backend flit-core, every file pinned by hash) is downloaded once per Python
version the tests run into ``<repository>/.cache/wheels/<first 16 hex of the file's SHA-256>/``
with ``pip download --require-hashes --only-binary=:all:`` by ``make test``'s bootstrap
(``scripts/bootstrap-test-deps.sh`` runs this file), like ``.cache/npm``. The jobs under act then
install with ``PIP_NO_INDEX=1`` and ``PIP_FIND_LINKS`` naming that directory: no network. A test
never downloads: :func:`require` fails it with the command that does (it is never skipped).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "tests" / "workflows" / "service" / "requirements.txt"


def directory() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    return REPO / ".cache" / "wheels" / digest


def ensure(python_versions: list[str]) -> Path:
    """The wheel directory, holding the requirements' wheels for each ``X.Y`` in ``python_versions``
    (downloaded when missing, under a lock: two bootstraps at once download once)."""
    import fcntl

    target = directory()
    target.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for version in python_versions:
            stamp = target / f".complete-{version}"
            if stamp.exists():
                continue
            env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--require-hashes",
                 "--only-binary=:all:", "--python-version", version, "--dest", str(target), "-r", str(REQUIREMENTS)],
                capture_output=True, text=True, env=env, timeout=600)
            if done.returncode:
                raise RuntimeError(f"pip download for Python {version} into {target} failed:\n{done.stderr[-3000:]}")
            stamp.touch()
    return target


def require(python_versions: list[str]) -> Path:
    """The wheel directory, which must hold the wheels for each ``X.Y`` in ``python_versions``."""
    target = directory()
    missing = [v for v in python_versions if not (target / f".complete-{v}").exists()]
    if missing:
        import pytest

        pytest.fail(f"the service's wheels for Python {', '.join(missing)} are not in {target}: run `make test-deps` "
                    "(scripts/bootstrap-test-deps.sh downloads them)")
    return target


if __name__ == "__main__":  # scripts/bootstrap-test-deps.sh: python tests/support/wheelhouse.py 3.11 3.12 3.13
    print(ensure(sys.argv[1:]))
