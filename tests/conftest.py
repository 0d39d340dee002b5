"""Shared fixtures. Tests talk only to 127.0.0.1; area-specific fixtures live in each folder's conftest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "tests"))  # `from support import ...`


from support import cli as _cli  # noqa: E402 - after the path above

run_cli = _cli.run_process  # ``python -m ci_tools`` as a user runs it


@pytest.fixture
def cli():
    """``cli(*args, cwd=, env=, input=, timeout=) -> CompletedProcess``: ci-tools run in this process
    (``support.cli.run``, which tests/support_tests/test_cli.py holds equal to ``python -m ci_tools``)."""
    return _cli.run


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    """An empty git repository to lay files into."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    return tmp_path
