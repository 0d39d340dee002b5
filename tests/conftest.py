"""Shared fixtures. Tests talk only to 127.0.0.1; area-specific fixtures live in each folder's conftest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "tests"))  # `from support import ...`


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m ci_tools`` as a user would, returning the completed process."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "ci_tools", *args], cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, input=input, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    """An empty git repository to lay files into."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    return tmp_path
