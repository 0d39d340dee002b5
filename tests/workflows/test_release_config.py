"""This repository's release-please configuration, run through the real release-please (npm).

release-please computes the next release from a real git history (``release-pr --local
--dry-run``); the few GitHub reads it makes (the repository, its releases) are answered by a
loopback stand-in, since GitHub itself cannot run here. The stand-in answers as GitHub's REST and
GraphQL APIs document: the repository object, and an empty list of releases (no release yet).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from support.npm_release_please import release_please_dir
from support.paths import REPO

FILES = ("release-please-config.json", ".release-please-manifest.json", "CHANGELOG.md", "pyproject.toml")


class _GitHub(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, code: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        if path == "/repos/org/ci":
            return self._send(200, {"name": "ci", "full_name": "org/ci", "default_branch": "main",
                                    "owner": {"login": "org"}})
        if path.endswith(("/releases", "/tags", "/pulls")):
            return self._send(200, [])
        return self._send(404, {"message": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        query = json.loads(self.rfile.read(length) or b"{}").get("query", "")
        if self.path == "/graphql" and "releases(" in query:
            return self._send(200, {"data": {"repository": {"releases": {
                "nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}})
        return self._send(404, {"message": "Not Found"})


@pytest.fixture
def github():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def history(tmp_path: Path, *messages: str) -> Path:
    """A clone whose origin holds this repository's release files and the given commits."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    for name in FILES:
        shutil.copy(REPO / name, work / name)
    (work / "scripts" / "ci_tools").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "ci_tools" / "__init__.py", work / "scripts" / "ci_tools" / "__init__.py")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "chore: start", cwd=work)
    for message in messages:
        git("commit", "-q", "--allow-empty", "-m", message, cwd=work)
    git("clone", "-q", "--bare", str(work), str(tmp_path / "origin.git"), cwd=tmp_path)
    git("clone", "-q", str(tmp_path / "origin.git"), str(tmp_path / "clone"), cwd=tmp_path)
    return tmp_path / "clone"


def release_pr(clone: Path, api: str) -> str:
    cli = release_please_dir() / "build" / "src" / "bin" / "release-please.js"
    out = subprocess.run(["node", str(cli), "release-pr", "--repo-url", "org/ci", "--token", "unused",
                          "--api-url", api, "--graphql-url", api, "--local", "--local-path", str(clone),
                          "--dry-run", "--target-branch", "main"],
                         cwd=clone.parent, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


@pytest.mark.slow
def test_a_feature_proposes_the_next_minor_release_and_updates_every_version_file(tmp_path, github):
    """0.1.0 is released (the manifest); below 1.0.0 a feature bumps the minor version (bump-minor-pre-major)."""
    output = release_pr(history(tmp_path, "feat: reusable workflows", "fix(check): a position"), github)
    assert "title: chore(main): release 0.2.0" in output
    assert "### Features" in output and "* reusable workflows" in output
    assert "### Bug fixes" in output and "**check:** a position" in output
    for updater in ("CHANGELOG.md:  [class Changelog", "pyproject.toml:  [class PyProjectToml",
                    "scripts/ci_tools/__init__.py:  [class Generic",
                    ".release-please-manifest.json:  [class ReleasePleaseManifest"):
        assert updater in output, updater


@pytest.mark.slow
def test_hidden_types_make_no_release(tmp_path, github):
    output = release_pr(history(tmp_path, "docs: wording", "ci: cache", "test: more"), github)
    assert "release 0." not in output


def test_version_markers_agree():
    """The manifest, the package and the changelog name the same release; the files release-please
    rewrites carry the markers."""
    version = json.loads((REPO / ".release-please-manifest.json").read_text())["."]
    assert f'__version__ = "{version}"' in (REPO / "scripts" / "ci_tools" / "__init__.py").read_text()
    assert f'\nversion = "{version}"\n' in (REPO / "pyproject.toml").read_text()
    assert f"\n## {version} (" in (REPO / "CHANGELOG.md").read_text()
    config = json.loads((REPO / "release-please-config.json").read_text())
    package = config["packages"]["."]
    assert package["release-type"] == "python" and package["changelog-path"] == "CHANGELOG.md"
    assert config["include-v-in-tag"] is True and config["include-component-in-tag"] is False
    for extra in package["extra-files"]:
        assert "x-release-please-version" in (REPO / extra).read_text()
