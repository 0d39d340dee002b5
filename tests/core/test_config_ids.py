"""The configuration's ``[checks.<id>]`` tables against the check ids its caller knows.

``core`` may not import the lint registry (tests/test_layers.py), so every loader takes the ids as a
required keyword: a caller that forgets them fails at once instead of letting ``[checks.severty]``
pass in silence."""

from __future__ import annotations

import subprocess

import pytest

from ci_tools.core.config import ConfigError, load_config, load_config_at
from ci_tools.lint.checks import known_ids

TYPO = '[tool.ci-tools.checks.missing-timeot]\nseverity = "error"\n'


def test_a_check_id_the_caller_does_not_know_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n' + TYPO)
    with pytest.raises(ConfigError, match=r'^pyproject\.toml: unknown check "missing-timeot" in \[tool\.ci-tools\.checks\]'):
        load_config(tmp_path, known_ids=known_ids())


def test_the_ids_are_the_callers_not_a_built_in_list(tmp_path):
    (tmp_path / "pyproject.toml").write_text(TYPO)
    config = load_config(tmp_path, known_ids={"missing-timeot"})
    assert config.check("missing-timeot").severity is not None
    with pytest.raises(ConfigError, match="unknown check"):
        load_config(tmp_path, known_ids={"missing-timeout"})


def test_none_is_written_out_to_skip_the_ids(tmp_path):
    (tmp_path / "pyproject.toml").write_text(TYPO)
    assert load_config(tmp_path, known_ids=None).check("missing-timeot").enabled


def test_a_loader_called_without_the_ids_fails(tmp_path):
    with pytest.raises(TypeError, match="known_ids"):
        load_config(tmp_path)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="known_ids"):
        load_config_at(tmp_path, "HEAD")  # type: ignore[call-arg]


def test_the_committed_configuration_is_held_to_the_same_ids(tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "pyproject.toml").write_text(TYPO)
    git("add", "pyproject.toml")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "chore: config")
    with pytest.raises(ConfigError, match=r'unknown check "missing-timeot".*\(as of HEAD\)'):
        load_config_at(tmp_path, "HEAD", known_ids=known_ids())
