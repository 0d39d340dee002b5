"""The release-please action's test world: its script run as the runner runs it, and real git origins."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # rp_action_standin

from support import actionscript  # noqa: E402
from support.actionscript import ScriptRun as Ran  # noqa: E402
from support.gitrepo import GIT_ENV, Repo  # noqa: E402
from support.gitserver import GitServer, _CGIHandler  # noqa: E402

REPO = HERE.parents[2]
ACTION = REPO / "actions" / "release-please"
SCRIPT = ACTION / "release.py"


def run_script(command: str, tmp: Path, env: dict[str, str], cwd: Path | None = None) -> Ran:
    """``python3 release.py COMMAND`` with real GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RELEASE_", "RP_"))}
    full = {**base, **GIT_ENV, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "org/svc",
            "RUNNER_TEMP": str(tmp), **env}
    return actionscript.run_script([sys.executable, str(SCRIPT), command], full, cwd=cwd or tmp, files=tmp,
                                   timeout=120)


@pytest.fixture
def script(tmp_path):
    counter = iter(range(1000))

    def run(command: str, env: dict[str, str], cwd: Path | None = None) -> Ran:
        return run_script(command, tmp_path / f"run-{next(counter)}", env, cwd)

    return run


class Origin:
    """A real bare repository ``org/svc`` under a server root, with released history.

    ``server_url`` (``file://...``) plays ``GITHUB_SERVER_URL`` for git: the action pushes to
    ``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git``; :class:`AuthGitServer` serves the same root over HTTP.
    """

    def __init__(self, root: Path) -> None:
        self.work = Repo(root / "work")
        self.server_root = root / "server"
        self.bare = self.server_root / "org" / "svc.git"
        self.released: dict[str, str] = {}

    @property
    def server_url(self) -> str:
        return self.server_root.as_uri()

    def release(self, tag: str, message: str | None = None) -> str:
        """A commit tagged ``tag`` (lightweight, as a GitHub release creates it)."""
        sha = self.work.commit(message or f"chore(main): release {tag.lstrip('v')}",
                               {"VERSION": tag + "\n"})
        self.work.git("tag", tag, sha)
        self.released[tag] = sha
        return sha

    def push_all(self) -> None:
        """Make ``origin`` hold exactly the work repository's branches and tags."""
        if not self.bare.exists():
            self.bare.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True,
                           env={**os.environ, **GIT_ENV})
            subprocess.run(["git", "--git-dir", str(self.bare), "config", "http.receivepack", "true"], check=True)
        self.work.git("push", "-q", "--force", str(self.bare), "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")

    def tags(self) -> dict[str, str]:
        """origin's tags peeled to commits."""
        out = subprocess.run(["git", "ls-remote", "--tags", str(self.bare)], capture_output=True, text=True,
                             check=True).stdout
        direct, peeled = {}, {}
        for line in out.splitlines():
            sha, ref = line.split("\t")
            name = ref.removeprefix("refs/tags/")
            (peeled if name.endswith("^{}") else direct)[name.removesuffix("^{}")] = sha
        return {n: peeled.get(n, s) for n, s in direct.items()}

    def tag_type(self, name: str) -> str:
        return subprocess.run(["git", "--git-dir", str(self.bare), "cat-file", "-t", f"refs/tags/{name}"],
                              capture_output=True, text=True, check=True).stdout.strip()


class AuthGitServer(GitServer):
    """git's smart HTTP (``git http-backend``) that, like GitHub, wants the token as basic auth.

    Requests without ``Authorization: basic base64(x-access-token:TOKEN)`` get 401; :attr:`auth`
    records what each request carried, so tests prove the token went as a header.
    """

    def __init__(self, root: Path, token: str) -> None:
        super().__init__(root)
        self.expected = "basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        self.auth: list[str | None] = []


class _AuthCGIHandler(_CGIHandler):
    owner: AuthGitServer

    def _cgi(self) -> None:
        given = self.headers.get("Authorization")
        self.owner.auth.append(given)
        if (given or "").lower() != self.owner.expected.lower():
            return self.send(401, b"", {"WWW-Authenticate": 'Basic realm="GitHub"'})
        super()._cgi()


AuthGitServer.handler = _AuthCGIHandler


@pytest.fixture
def origin(tmp_path) -> Origin:
    """History v1.0.0, v1.1.0, v1.2.0 with ``v1`` (annotated, as people often make it) and ``v1.2``."""
    o = Origin(tmp_path)
    o.work.commit("chore: start", {"README.md": "svc\n"})
    o.release("v1.0.0")
    o.release("v1.1.0")
    v120 = o.release("v1.2.0")
    o.work.git("tag", "-a", "-m", "v1", "v1", v120)
    o.work.git("tag", "v1.2", v120)
    o.push_all()
    return o


def dumps(outputs: dict[str, str]) -> str:
    return json.dumps(outputs)
