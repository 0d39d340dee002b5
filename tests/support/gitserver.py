"""Real git repositories over HTTP on 127.0.0.1: git's smart HTTP protocol through ``git http-backend``.

``GitServer(root)`` serves every repository under ``root`` at ``http://127.0.0.1:PORT/<path>``, e.g.
``root/acme/act.git`` at ``.../acme/act.git``, by running git's own CGI program for each request
(protocol v2 included, through the ``Git-Protocol`` header). Requests are logged for counting.
The server is :class:`support.httpd.LoopbackServer`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from support.httpd import Handler, LoopbackServer


class GitServer(LoopbackServer):
    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = Path(root)
        self.log: list[str] = []


def bare_clone(source: Path, target: Path) -> Path:
    """A bare copy of a test repository, as a server would hold it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "-q", "--bare", "--mirror", str(source), str(target)], check=True)
    return target


class _CGIHandler(Handler):
    owner: GitServer

    def do_GET(self) -> None:  # noqa: N802
        self._cgi()

    def do_POST(self) -> None:  # noqa: N802
        self._cgi()

    def _cgi(self) -> None:
        self.record(f"{self.command} {self.path}")
        split = urlsplit(self.path)
        body = self.read_body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.owner.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": split.path,
            "QUERY_STRING": split.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.owner.root),
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding") == "gzip":
            env["HTTP_CONTENT_ENCODING"] = "gzip"
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        if not _ and b"\n\n" in done.stdout:
            head, _, payload = done.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send(status, payload, headers)


GitServer.handler = _CGIHandler
