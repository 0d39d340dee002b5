"""Shared fixtures. Tests talk only to 127.0.0.1; area-specific fixtures live in each folder's conftest."""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
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


@pytest.fixture(autouse=True)
def _empty_memos_under_mutation():
    """Under `make mutate`, mutmut runs each mutant in a process forked from one that ran the tests
    once, whose memo caches (``functools.lru_cache``, as on ``untrusted_match``) hold the unmutated
    code's answers: a mutant of a memoised function's helpers would never run. mutmut sets
    ``MUTANT_UNDER_TEST``; then every test starts with empty caches."""
    if "MUTANT_UNDER_TEST" in os.environ:
        for name, module in list(sys.modules.items()):
            if name.startswith("ci_tools"):
                for value in list(vars(module).values()):
                    clear = getattr(value, "cache_clear", None)
                    if callable(clear):
                        clear()
    yield


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    """An empty git repository to lay files into."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    return tmp_path


def pytest_configure(config: pytest.Config) -> None:
    _python_without_shims()


_SHIMS_RESOLVED = "CI_TESTS_PYTHON_ON_PATH"  # set once; pytest-xdist's workers inherit it


def _python_without_shims() -> None:
    """``python3`` and ``python`` on PATH start the interpreter they stand for, not a wrapper script.

    Where a version manager's shim comes first on PATH (pyenv: a bash script running ``pyenv exec``,
    about ten processes and 0.7 s before Python starts), every ``python3`` an action's step or
    script runs paid that, dozens of times per test. The shim is asked once which interpreter it
    starts, and a directory put first on PATH execs that interpreter directly: the same Python."""
    if os.environ.get(_SHIMS_RESOLVED):
        return
    os.environ[_SHIMS_RESOLVED] = "1"
    wrappers: dict[str, str] = {}
    for name in ("python3", "python"):
        found = shutil.which(name)
        if not found:
            continue
        with open(found, "rb") as handle:
            if handle.read(2) != b"#!":  # an executable, or a link to one: nothing in between
                continue
        asked = subprocess.run([found, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True,
                               timeout=120)
        real = asked.stdout.strip()
        if asked.returncode == 0 and os.path.isabs(real) and os.access(real, os.X_OK):
            wrappers[name] = real
    if not wrappers:
        return
    directory = Path(tempfile.mkdtemp(prefix="ci-tests-python-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    for name, real in wrappers.items():
        script = directory / name
        script.write_text(f"#!/bin/sh\nexec {shlex.quote(real)} \"$@\"\n")
        script.chmod(0o755)
    os.environ["PATH"] = f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"


# pytest-xdist (`make test`: --dist loadgroup): which tests must share a worker. A module whose
# tests share a module-scoped fixture runs on one worker, so its world is built once; the act
# tests share one act session and the runner's tool cache (.cache/act-tool-cache, which act's
# setup-python stand-in fills), which must have one writer. Everything else is spread test by test.
_SHARED_WORLDS = {"act_session": "act"}


# Marked as each test is collected, before any collection_modifyitems hook.
def pytest_itemcollected(item: pytest.Item) -> None:
    if item.get_closest_marker("xdist_group"):
        return
    group = _xdist_group(item)
    if group:
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each grouped test the node id suffix (``@group``) that --dist loadgroup schedules by.

    pytest-xdist 3.8.0 writes the suffix into ``item._nodeid``, which pytest 9.2 no longer reads (a
    node's id is ``item._id``, a NodeId): its groups were silently ignored and a module's tests that
    share a world ran on several workers at once. Done here when xdist's own attempt left no mark.
    """
    if not config.getoption("loadgroup", default=False):
        return
    from _pytest.nodeid import NodeId  # pytest 9's node id; only reached under --dist loadgroup

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid.rsplit("::", 1)[-1]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")
    # xdist hands out groups in collection order: the act group (over a minute on one worker, and
    # collected last, from tests/workflows) goes first, so the other workers share out the rest
    # around it instead of waiting for it at the end
    items.sort(key=lambda item: not item.nodeid.endswith(f"@{_SHARED_WORLDS['act_session']}"))


def _xdist_group(item: pytest.Item) -> str | None:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for name in info.names_closure:
        if name in _SHARED_WORLDS:
            return _SHARED_WORLDS[name]
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name) or ()
        if any(d.scope in ("module", "class", "package") for d in definitions):
            return item.nodeid.split("::", 1)[0]
    return None
