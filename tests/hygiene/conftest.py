"""Real git histories for the pull request hygiene tests (commits, secrets, branch names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.gitrepo import Repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")
