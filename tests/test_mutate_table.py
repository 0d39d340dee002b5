"""`make mutate`'s table of realistic mutations follows the code: each entry's text stands exactly once
in its file and names tests that exist. A refactoring that moves the text would otherwise be found
only when someone runs `make mutate` (which stops at the first stale entry)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mutate():
    spec = importlib.util.spec_from_file_location("mutate_script", REPO / "scripts" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


TABLE = _mutate().TABLE


@pytest.mark.parametrize("mutation", TABLE, ids=[f"{m.label}: {m.what}" for m in TABLE])
def test_each_mutation_applies_once_and_names_existing_tests(mutation):
    assert (REPO / mutation.path).read_text(encoding="utf-8").count(mutation.old) == 1
    assert mutation.old != mutation.new
    files = [arg.split("::")[0] for arg in mutation.tests if arg.startswith("tests/")]
    assert files and all((REPO / name).is_file() for name in files), files
