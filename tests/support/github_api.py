"""A GitHub REST API double on 127.0.0.1, backed by real git repositories the tests create.

GitHub itself cannot run here, so this plays the part of the endpoints ci-tools uses, answering
from real git data (``git for-each-ref``, ``rev-parse``, ``merge-base``, ``cat-file``) with the
shapes GitHub documents:

- ``GET /repos/{o}/{r}``: ``id``, ``owner.id``, ``default_branch``, ``private``;
- ``GET /repos/{o}/{r}/tags`` (each tag peeled to its commit through any tag-of-tag chain) and
  ``/branches``, ``/git/matching-refs/{tags,heads}``, ``/releases``: paginated with ``per_page``,
  ``page`` and ``Link`` headers;
- ``GET /repos/{o}/{r}/git/tags/{sha}`` (annotated tag objects), ``/commits/{ref}``,
  ``/compare/{base}...{head}`` (``status`` ahead/behind/identical/diverged); releases carry
  ``immutable`` when the test gives it (GitHub's field since immutable releases; absent on older
  servers),
  ``/contents/{path}?ref=`` (raw with ``Accept: application/vnd.github.raw+json``);
- ``GET /advisories?ecosystem=``: the advisories the test puts in :attr:`GitHubDouble.advisories`;
  :attr:`GitHubDouble.missing` names endpoints the server lacks (404), as GitHub Enterprise Server
  without GitHub Connect lacks the advisory database.

A fork network is modelled as GitHub serves it: :meth:`GitHubDouble.add_fork` makes the fork's
objects reachable through the parent (git alternates), so a fork-only commit answers under the
parent's name while no branch or tag of the parent contains it.

:func:`refused_url` gives the URL of a port that refuses connections (bound, never listening), as a
server that is down or a wrong ``GITHUB_API_URL`` does.

Injectable faults (:meth:`GitHubDouble.fail`): ``500``, ``429`` with ``Retry-After``, ``403`` rate
limit with ``X-RateLimit-Reset``, ``timeout`` (the answer comes after ``delay`` seconds),
``truncate`` (a body shorter than its ``Content-Length``, then the connection closes), each for the
next ``times`` matching requests. ``latency`` delays every answer. :attr:`GitHubDouble.log` records
every request, so tests assert request counts.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


@contextlib.contextmanager
def refused_url():
    """``http://127.0.0.1:<port>`` of a socket that is bound but never listens: every connection to it is
    refused at once, and no other test can take the port while it is held."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@dataclass
class RepoEntry:
    name: str
    git_dir: Path  # the repository's .git directory (or a bare repository)
    id: int
    owner_id: int
    private: bool = False
    releases: list[dict] = field(default_factory=list)
    default_branch: str = "main"
    extra_tags: dict[str, str] = field(default_factory=dict)  # served as lightweight tags (benchmarks)


@dataclass
class Fault:
    pattern: re.Pattern
    kind: str
    times: int
    value: float = 1.0


class GitHubDouble:
    def __init__(self, token: str | None = None, latency: float = 0.0, per_page_max: int = 100) -> None:
        self.repos: dict[str, RepoEntry] = {}
        self.token = token
        self.latency = latency
        self.per_page_max = per_page_max
        self.faults: list[Fault] = []
        self.advisories: list[dict] = []  # GET /advisories answers these (filtered by ?ecosystem=)
        # endpoints this server does not have, answered 404 like GitHub Enterprise Server without GitHub
        # Connect answers GET /advisories: "advisories", "releases"
        self.missing: set[str] = set()
        self.log: list[str] = []
        self.auth_seen: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests answered at once: proof of (bounded) concurrency
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._next_id = 1000

    # ------------------------------------------------------------------ set-up
    def add_repo(self, name: str, git_dir: Path, *, private: bool = False, releases: list[dict] | None = None,
                 owner_id: int | None = None, repo_id: int | None = None,
                 extra_tags: dict[str, str] | None = None) -> RepoEntry:
        """Serve ``git_dir`` as ``name``. ``extra_tags`` (name -> commit SHA) are listed as tags even though the
        commit is not in the repository: the benchmark uses them for real SHAs that its corpus pins."""
        git_dir = Path(git_dir)
        if (git_dir / ".git").is_dir():
            git_dir = git_dir / ".git"
        self._next_id += 1
        head = _git(git_dir, "symbolic-ref", "--short", "HEAD", check=False).strip() or "main"
        entry = RepoEntry(name, git_dir, repo_id or self._next_id, owner_id or (self._next_id + 50000), private,
                          list(releases or []), head, dict(extra_tags or {}))
        self.repos[name.lower()] = entry
        return entry

    def add_fork(self, parent: str, fork_git_dir: Path) -> None:
        """Serve the fork's commits through ``parent``, as GitHub's fork network does."""
        fork = Path(fork_git_dir)
        fork = fork / ".git" if (fork / ".git").is_dir() else fork
        alternates = self.repos[parent.lower()].git_dir / "objects" / "info" / "alternates"
        alternates.parent.mkdir(parents=True, exist_ok=True)
        with alternates.open("a", encoding="utf-8") as handle:
            handle.write(str((fork / "objects").resolve()) + "\n")

    def fail(self, pattern: str, kind: str, times: int = 1, value: float = 1.0) -> None:
        """The next ``times`` requests whose path matches ``pattern`` get fault ``kind``."""
        self.faults.append(Fault(re.compile(pattern), kind, times, value))

    def count(self, pattern: str | None = None) -> int:
        with self._lock:
            return sum(1 for p in self.log if pattern is None or re.search(pattern, p))

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.auth_seen.clear()

    # ------------------------------------------------------------------ server
    def start(self) -> str:
        double = self

        class Handler(_Handler):
            owner = double

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 128
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GitHubDouble:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None


def _git(git_dir: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise LookupError(done.stderr.strip())
    return done.stdout


def _git_bytes(git_dir: Path, *args: str) -> bytes | None:
    done = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True)
    return done.stdout if done.returncode == 0 else None


class _Handler(BaseHTTPRequestHandler):
    owner: GitHubDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        double = self.owner
        with double._lock:
            double.log.append(self.path)
            double.auth_seen.append(self.headers.get("Authorization"))
            double.in_flight += 1
            double.max_in_flight = max(double.max_in_flight, double.in_flight)
        try:
            self._answer(double)
        finally:
            with double._lock:
                double.in_flight -= 1

    def _answer(self, double: GitHubDouble) -> None:
        if double.latency:
            time.sleep(double.latency)
        split = urlsplit(self.path)
        fault = double._take_fault(split.path)
        if fault is not None and self._fault(fault):
            return
        try:
            status, body, headers = self._route(split.path, parse_qs(split.query))
        except LookupError:
            status, body, headers = 404, {"message": "Not Found"}, {}
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._send(status, raw, headers)

    def _send(self, status: int, raw: bytes, headers: dict, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json; charset=utf-8"))
        self.send_header("Content-Length", str(len(raw) if length is None else length))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _fault(self, fault: Fault) -> bool:
        kind = fault.kind
        if kind == "500":
            self._send(502 if fault.value == 502 else 500, b'{"message": "Server Error"}', {})
        elif kind == "429":
            self._send(429, b'{"message": "too many requests"}', {"Retry-After": str(int(fault.value))})
        elif kind == "403-ratelimit":
            reset = int(time.time() + fault.value)
            self._send(403, b'{"message": "API rate limit exceeded"}',
                       {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
        elif kind == "timeout":
            time.sleep(fault.value)
            return False  # answer late
        elif kind == "truncate":
            self.close_connection = True
            self._send(200, b'[{"name": "v1", "comm', {}, length=4096)
        else:
            raise ValueError(kind)
        return True

    # ------------------------------------------------------------------ routes
    def _route(self, path: str, query: dict) -> tuple[int, object, dict]:
        if path == "/advisories" and "advisories" in self.owner.missing:
            raise LookupError(path)
        if path == "/advisories":  # the global advisory database: GitHub-reviewed advisories
            ecosystem = (query.get("ecosystem") or [None])[0]
            items = [a for a in self.owner.advisories if ecosystem is None or any(
                (v.get("package") or {}).get("ecosystem") == ecosystem for v in a.get("vulnerabilities") or [])]
            return self._page(items, query, path)
        m = re.match(r"/repos/([^/]+)/([^/]+)(/.*)?\Z", path)
        if not m:
            raise LookupError(path)
        name = f"{unquote(m[1])}/{unquote(m[2])}"
        entry = self.owner.repos.get(name.lower())
        if entry is None:
            raise LookupError(name)
        if entry.private:
            auth = self.headers.get("Authorization", "")
            if not self.owner.token or auth not in (f"Bearer {self.owner.token}", f"token {self.owner.token}"):
                raise LookupError(name)
        rest = m[3] or ""
        g = entry.git_dir
        if rest == "":
            owner_login = name.split("/")[0]
            return 200, {"id": entry.id, "name": name.split("/")[1], "full_name": name, "private": entry.private,
                         "default_branch": entry.default_branch, "owner": {"login": owner_login, "id": entry.owner_id}}, {}
        if rest == "/tags":
            names = _git(g, "for-each-ref", "--format=%(refname:strip=2)", "--sort=-v:refname", "refs/tags").split()
            peeled = _peel_all(g, names)
            items = [{"name": n, "commit": {"sha": peeled[n], "url": ""}} for n in names if n in peeled]
            items += [{"name": n, "commit": {"sha": sha, "url": ""}} for n, sha in entry.extra_tags.items()
                      if n not in peeled]
            return self._page(items, query, path)
        if rest == "/branches":
            out = _git(g, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/heads")
            items = [{"name": n, "commit": {"sha": s, "url": ""}, "protected": False}
                     for n, s in (line.split() for line in out.splitlines())]
            return self._page(items, query, path)
        mm = re.match(r"/git/matching-refs/(tags|heads)(?:/(.*))?\Z", rest)
        if mm:
            out = _git(g, "for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", f"refs/{mm[1]}")
            items = [{"ref": r, "object": {"sha": s, "type": t}} for r, s, t in (x.split() for x in out.splitlines())
                     if not mm[2] or r.startswith(f"refs/{mm[1]}/{mm[2]}")]
            return self._page(items, query, path)
        mm = re.match(r"/git/tags/([0-9a-f]{40})\Z", rest)
        if mm:
            if _git(g, "cat-file", "-t", mm[1], check=False).strip() != "tag":
                raise LookupError(mm[1])
            text = _git(g, "cat-file", "tag", mm[1])
            fields = dict(line.split(" ", 1) for line in text.split("\n\n", 1)[0].splitlines() if " " in line)
            return 200, {"sha": mm[1], "tag": fields.get("tag"),
                         "object": {"sha": fields["object"], "type": fields["type"]}}, {}
        mm = re.match(r"/commits/(.+)\Z", rest)
        if mm:
            sha = _git(g, "rev-parse", "--verify", "--quiet", unquote(mm[1]) + "^{commit}").strip()
            return 200, {"sha": sha, "commit": {"message": ""}}, {}
        mm = re.match(r"/compare/(.+?)\.\.\.(.+)\Z", rest)
        if mm:
            base = _git(g, "rev-parse", "--verify", "--quiet", unquote(mm[1]) + "^{commit}").strip()
            head = _git(g, "rev-parse", "--verify", "--quiet", unquote(mm[2]) + "^{commit}").strip()
            if base == head:
                status = "identical"
            elif _is_ancestor(g, head, base):
                status = "behind"
            elif _is_ancestor(g, base, head):
                status = "ahead"
            else:
                status = "diverged"
            return 200, {"status": status, "base_commit": {"sha": base}, "merge_base_commit": {"sha": base}}, {}
        if rest == "/releases" and "releases" in self.owner.missing:
            raise LookupError(rest)
        if rest == "/releases":
            items = [{"tag_name": r["tag_name"], "name": r.get("name", r["tag_name"]),
                      "draft": bool(r.get("draft")), "prerelease": bool(r.get("prerelease")),
                      "published_at": None if r.get("draft") else r.get("published_at"),
                      "html_url": f"https://github.invalid/{name}/releases/tag/{r['tag_name']}",
                      **({"immutable": bool(r["immutable"])} if "immutable" in r else {})}
                     for r in entry.releases]
            return self._page(items, query, path)
        mm = re.match(r"/contents/(.+)\Z", rest)
        if mm:
            ref = (query.get("ref") or [entry.default_branch])[0]
            data = _git_bytes(g, "show", f"{ref}:{unquote(mm[1])}")
            if data is None:
                raise LookupError(mm[1])
            if "raw" in self.headers.get("Accept", ""):
                return 200, data, {"Content-Type": "application/vnd.github.raw"}
            import base64

            return 200, {"type": "file", "encoding": "base64", "content": base64.b64encode(data).decode()}, {}
        raise LookupError(rest)

    def _page(self, items: list, query: dict, path: str) -> tuple[int, object, dict]:
        per_page = min(int((query.get("per_page") or ["30"])[0]), self.owner.per_page_max)
        page = int((query.get("page") or ["1"])[0])
        chunk = items[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        base = f"{self.owner.url}{path}?per_page={per_page}"
        if page < last:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})


def _peel_all(git_dir: Path, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    out = _git(git_dir, "rev-parse", *[f"refs/tags/{n}^{{commit}}" for n in names], check=False).split()
    return dict(zip(names, out, strict=False)) if len(out) == len(names) else {
        n: _git(git_dir, "rev-parse", f"refs/tags/{n}^{{commit}}").strip() for n in names}


def _is_ancestor(git_dir: Path, a: str, b: str) -> bool:
    return subprocess.run(["git", "--git-dir", str(git_dir), "merge-base", "--is-ancestor", a, b],
                          capture_output=True).returncode == 0
