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
- ``GET /repos/{o}/{r}/actions/runs/{id}``: the runs a test puts in ``RepoEntry.workflow_runs``
  (``event``, ``head_branch``, ``head_sha``, ``repository`` and ``head_repository``);
- ``GET /advisories?ecosystem=``: the advisories the test puts in :attr:`GitHubDouble.advisories`;
  :attr:`GitHubDouble.missing` names endpoints the server lacks (404), as GitHub Enterprise Server
  without GitHub Connect lacks the advisory database.
- ``GET /{o}/{r}/releases/download/{tag}/{name}``: a release asset (github.com serves these, not the
  API host; the double answers both), the bytes the test puts in :attr:`GitHubDouble.assets`;
- GitHub Actions (``ci-tools metrics``), from :class:`ActionsData` (built by :mod:`support.pipelines`):
  ``GET /repos/{o}/{r}/actions/runs`` (newest first; ``created``, ``branch``, ``event``, ``status`` and
  ``head_sha`` filters, and GitHub's cap of 1,000 results per filtered search: ``total_count`` says how
  many match, pages past the thousandth run come back empty), ``/actions/runs/{id}``,
  ``/actions/runs/{id}/attempts/{n}``, ``/actions/runs/{id}/jobs`` (``filter=latest|all``) and
  ``/attempts/{n}/jobs``, ``/actions/runs/{id}/artifacts``, ``/actions/artifacts`` (the repository's,
  newest first), ``/actions/artifacts/{id}/zip`` (a 302 to the archive, 410 once expired), and
  ``GET /orgs/{org}/repos``. The shapes follow the OpenAPI description of the REST API at version
  2022-11-28 (github/rest-api-description, ``descriptions/api.github.com/api.github.com.2022-11-28.yaml``:
  schemas ``workflow-run``, ``job`` and ``artifact``; operations ``actions/list-workflow-runs-for-repo``,
  ``actions/list-jobs-for-workflow-run``, ``actions/list-artifacts-for-repo``,
  ``actions/download-artifact``, ``repos/list-for-org``). A repository added without a git directory
  serves these and ``GET /repos/{o}/{r}`` only;
- issues (``issues/list-for-repo``, ``issues/create``, ``issues/update``): ``GET /repos/{o}/{r}/issues``
  (open ones by default, newest first, pull requests never listed here), ``POST`` to it and ``PATCH
  /repos/{o}/{r}/issues/{n}``, which need the token when the double has one (403 otherwise); bodies
  over 65,536 characters are refused with 422, as GitHub does.

A fork network is modelled as GitHub serves it: :meth:`GitHubDouble.add_fork` makes the fork's
objects reachable through the parent (git alternates), so a fork-only commit answers under the
parent's name while no branch or tag of the parent contains it.

:func:`refused_url` gives the URL of a port that refuses connections (bound, never listening), as a
server that is down or a wrong ``GITHUB_API_URL`` does.

Injectable faults (:meth:`GitHubDouble.fail`): ``500``, ``429`` with ``Retry-After``, ``403`` rate
limit with ``X-RateLimit-Reset``, ``secondary-ratelimit`` (403 with ``Retry-After`` and remaining
quota, as GitHub answers for too many concurrent requests), ``timeout`` (the answer comes after
``delay`` seconds), ``truncate`` (a body shorter than its ``Content-Length``, then the connection
closes), ``body`` (200 with the bytes given: a malformed answer), each for the next ``times``
matching requests. ``latency`` delays every answer. :attr:`GitHubDouble.log` records
every request, so tests assert request counts. The server itself is :class:`support.httpd.LoopbackServer`;
the other stand-ins that play GitHub (:mod:`support.release_github`, the pull request comments of
terraform-plan) extend this class.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from support.httpd import Fault, Handler, LoopbackServer


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
class ActionsData:
    """What GitHub Actions recorded for one repository, in the API's shapes (see :mod:`support.pipelines`)."""

    runs: list[dict] = field(default_factory=list)  # each run as its latest attempt
    attempts: dict[int, list[dict]] = field(default_factory=dict)  # run id -> the run as each attempt, in order
    jobs: dict[int, list[dict]] = field(default_factory=dict)  # run id -> the jobs of every attempt
    artifacts: list[dict] = field(default_factory=list)
    blobs: dict[int, bytes] = field(default_factory=dict)  # artifact id -> its zip archive


@dataclass
class RepoEntry:
    name: str
    git_dir: Path | None  # the repository's .git directory (or a bare repository); None: Actions data only
    id: int
    owner_id: int
    private: bool = False
    releases: list[dict] = field(default_factory=list)
    default_branch: str = "main"
    extra_tags: dict[str, str] = field(default_factory=dict)  # served as lightweight tags (benchmarks)
    # GET /actions/runs/{id}: run id -> {"event", "head_branch", "head_sha", optional "head_repository"}
    workflow_runs: dict[int, dict] = field(default_factory=dict)
    actions: ActionsData = field(default_factory=ActionsData)
    archived: bool = False
    issues: list[dict] = field(default_factory=list)


SEARCH_CAP = 1000  # GitHub answers at most 1,000 runs for a filtered search of workflow runs


class GitHubDouble(LoopbackServer):
    request_queue_size = 128  # bursts of concurrent requests (ci-tools' thread pool)

    def __init__(self, token: str | None = None, latency: float = 0.0, per_page_max: int = 100) -> None:
        super().__init__(latency=latency)
        self.repos: dict[str, RepoEntry] = {}
        self.token = token
        self.per_page_max = per_page_max
        self.advisories: list[dict] = []  # GET /advisories answers these (filtered by ?ecosystem=)
        self.assets: dict[str, bytes] = {}  # "owner/repo/tag/name" -> the release asset's bytes
        self.orgs: dict[str, list[str]] = {}  # GET /orgs/{org}/repos: organisation -> repository names
        self.search_cap = SEARCH_CAP  # lower it to exercise the cap with few runs
        # endpoints this server does not have, answered 404 like GitHub Enterprise Server without GitHub
        # Connect answers GET /advisories: "advisories", "releases"
        self.missing: set[str] = set()
        # the address the API names itself by in Link headers (None: where it listens); a test points it at
        # another host to prove a client follows no link away from GITHUB_API_URL
        self.public_url: str | None = None
        self.log: list[str] = []
        self.auth_seen: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests answered at once: proof of (bounded) concurrency
        self._next_id = 1000

    # ------------------------------------------------------------------ set-up
    def add_repo(self, name: str, git_dir: Path | None = None, *, private: bool = False,
                 releases: list[dict] | None = None, owner_id: int | None = None, repo_id: int | None = None,
                 extra_tags: dict[str, str] | None = None, default_branch: str | None = None,
                 actions: ActionsData | None = None, archived: bool = False) -> RepoEntry:
        """Serve ``git_dir`` as ``name``. ``extra_tags`` (name -> commit SHA) are listed as tags even though the
        commit is not in the repository: the benchmark uses them for real SHAs that its corpus pins. Without
        ``git_dir`` the repository serves its metadata and its GitHub Actions data (``actions``) only."""
        if git_dir is not None:
            git_dir = Path(git_dir)
            if (git_dir / ".git").is_dir():
                git_dir = git_dir / ".git"
        self._next_id += 1
        head = default_branch or (git_dir and _git(git_dir, "symbolic-ref", "--short", "HEAD", check=False).strip()) \
            or "main"
        entry = RepoEntry(name, git_dir, repo_id or self._next_id, owner_id or (self._next_id + 50000), private,
                          list(releases or []), head, dict(extra_tags or {}), actions=actions or ActionsData(),
                          archived=archived)
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

    def count(self, pattern: str | None = None) -> int:
        with self.lock:
            return sum(1 for p in self.log if pattern is None or re.search(pattern, p))

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.auth_seen.clear()


def _git(git_dir: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise LookupError(done.stderr.strip())
    return done.stdout


def _git_bytes(git_dir: Path, *args: str) -> bytes | None:
    done = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True)
    return done.stdout if done.returncode == 0 else None


class _Handler(Handler):
    owner: GitHubDouble
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        double = self.owner
        with double.lock:
            double.log.append(self.path)
            double.auth_seen.append(self.headers.get("Authorization"))
            double.in_flight += 1
            double.max_in_flight = max(double.max_in_flight, double.in_flight)
        try:
            self._answer(double)
        finally:
            with double.lock:
                double.in_flight -= 1

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        self._write("POST")

    def do_PATCH(self) -> None:  # noqa: N802 - http.server API
        self._write("PATCH")

    def _write(self, method: str) -> None:
        """The issue endpoints that write (the only writes this double plays)."""
        double = self.owner
        raw = self.read_body()
        with double.lock:
            double.log.append(f"{method} {self.path}")
            double.auth_seen.append(self.headers.get("Authorization"))
        m = re.match(r"/repos/([^/]+)/([^/]+)/issues(?:/(\d+))?\Z", urlsplit(self.path).path)
        entry = double.repos.get(f"{unquote(m[1])}/{unquote(m[2])}".lower()) if m else None
        if entry is None or (method == "PATCH") != bool(m[3]):
            return self._send(404, b'{"message": "Not Found"}', {})
        if double.token and self.headers.get("Authorization") != f"Bearer {double.token}":
            return self._send(403, b'{"message": "Resource not accessible by integration"}', {})
        try:
            payload = json.loads(raw)
        except ValueError:
            return self._send(400, b'{"message": "Problems parsing JSON"}', {})
        if len(str(payload.get("body") or "")) > 65536:
            return self._send(422, b'{"message": "Validation Failed", "errors": [{"field": "body", '
                                   b'"code": "custom", "message": "body is too long (maximum is 65536 characters)"}]}',
                              {})
        if method == "POST":
            number = len(entry.issues) + 1
            issue = {"number": number, "title": payload.get("title", ""), "body": payload.get("body", ""),
                     "state": "open", "labels": [{"name": n} for n in payload.get("labels") or []],
                     "user": {"login": "github-actions[bot]", "type": "Bot"},
                     "html_url": f"https://github.com/{entry.name}/issues/{number}"}
            entry.issues.append(issue)
            return self._send(201, json.dumps(issue).encode(), {})
        issue = next((i for i in entry.issues if i["number"] == int(m[3])), None)
        if issue is None:
            return self._send(404, b'{"message": "Not Found"}', {})
        issue.update({k: v for k, v in payload.items() if k in ("title", "body", "state")})
        return self._send(200, json.dumps(issue).encode(), {})

    def _answer(self, double: GitHubDouble) -> None:
        self.pause()
        split = urlsplit(self.path)
        fault = self.take_fault(split.path)
        if fault is not None and self._fault(fault):
            return
        try:
            status, body, headers = self._route(split.path, parse_qs(split.query))
        except LookupError:
            status, body, headers = 404, {"message": "Not Found"}, {}
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._send(status, raw, headers)

    def _send(self, status: int, raw: bytes, headers: dict, length: int | None = None) -> None:
        headers = {"Content-Type": headers.pop("Content-Type", "application/json; charset=utf-8"), **headers}
        self.send(status, raw, headers, length=length)

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
        elif kind == "secondary-ratelimit":
            self._send(403, b'{"message": "You have exceeded a secondary rate limit. Please wait a few minutes '
                            b'before you try again."}',
                       {"Retry-After": str(int(fault.value)), "X-RateLimit-Remaining": "4321"})
        elif kind == "body":
            self._send(200, fault.body, {})
        elif kind == "timeout":
            time.sleep(fault.value)
            return False  # answer late
        elif kind == "truncate":
            self.truncated(200, b'[{"name": "v1", "comm', 4096, {"Content-Type": "application/json; charset=utf-8"})
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
        asset = re.match(r"/([^/]+)/([^/]+)/releases/download/([^/]+)/([^/]+)\Z", path)
        if asset:
            data = self.owner.assets["/".join(unquote(part) for part in asset.groups())]
            return 200, data, {"Content-Type": "application/octet-stream"}
        m = re.match(r"/orgs/([^/]+)/repos\Z", path)
        if m:
            names = self.owner.orgs.get(unquote(m[1]).lower())
            if names is None:
                raise LookupError(path)
            return self._page([self._repo_object(self.owner.repos[n.lower()]) for n in names], query, path)
        m = re.match(r"/_blobs/([^/]+)/([^/]+)/(\d+)\Z", path)
        if m:  # where /actions/artifacts/{id}/zip redirects (GitHub: a signed URL of its blob storage)
            entry = self.owner.repos.get(f"{unquote(m[1])}/{unquote(m[2])}".lower())
            blob = entry.actions.blobs.get(int(m[3])) if entry else None
            if blob is None:
                raise LookupError(path)
            return 200, blob, {"Content-Type": "application/zip"}
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
            return 200, self._repo_object(entry), {}
        mm = re.match(r"/actions/runs/(\d+)\Z", rest)
        if mm and int(mm[1]) in entry.workflow_runs:  # else the Actions data below answers (or 404)
            run = entry.workflow_runs[int(mm[1])]
            head_repo = run.get("head_repository", name)
            return 200, {"id": int(mm[1]), "event": run["event"], "head_branch": run["head_branch"],
                         "head_sha": run["head_sha"], "status": run.get("status", "completed"),
                         "conclusion": run.get("conclusion", "success"),
                         "repository": {"full_name": name}, "head_repository": {"full_name": head_repo}}, {}
        if rest.startswith("/actions/"):
            return self._actions(entry, rest[len("/actions"):], query, path)
        if rest == "/issues":
            state = (query.get("state") or ["open"])[0]
            items = [i for i in reversed(entry.issues) if state == "all" or i["state"] == state]
            return self._page(items, query, path)
        if g is None:
            raise LookupError(rest)
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

    def _page(self, items: list, query: dict, path: str, *, key: str | None = None,
              total: int | None = None) -> tuple[int, object, dict]:
        """One page of ``items`` with GitHub's ``Link`` header (the other query parameters kept in its URLs).
        With ``key``, the body is ``{"total_count": total, key: [...]}`` as the Actions endpoints answer."""
        from urllib.parse import urlencode

        per_page = min(int((query.get("per_page") or ["30"])[0]), self.owner.per_page_max)
        page = int((query.get("page") or ["1"])[0])
        chunk = items[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        kept = [(k, v) for k, values in query.items() if k not in ("page", "per_page") for v in values]
        base = f"{self.owner.public_url or self.owner.url}{path}?" + urlencode([*kept, ("per_page", per_page)])
        if page < last:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        body: object = chunk if key is None else {"total_count": len(items) if total is None else total, key: chunk}
        return 200, body, ({"Link": ", ".join(links)} if links else {})

    def _repo_object(self, entry: RepoEntry) -> dict:
        owner_login, short = entry.name.split("/", 1)
        return {"id": entry.id, "name": short, "full_name": entry.name, "private": entry.private,
                "default_branch": entry.default_branch, "archived": entry.archived, "disabled": False,
                "html_url": f"https://github.com/{entry.name}", "owner": {"login": owner_login, "id": entry.owner_id}}

    # ------------------------------------------------------------------ GitHub Actions
    def _actions(self, entry: RepoEntry, rest: str, query: dict, path: str) -> tuple[int, object, dict]:
        data = entry.actions
        if rest == "/runs" or re.match(r"/workflows/[^/]+/runs\Z", rest):
            runs = data.runs
            mw = re.match(r"/workflows/([^/]+)/runs\Z", rest)
            if mw:
                wanted = unquote(mw[1])
                runs = [r for r in runs if str(r.get("workflow_id")) == wanted
                        or str(r.get("path", "")).rsplit("/", 1)[-1] == wanted]
            filters = {k: query[k][0] for k in ("created", "branch", "event", "status", "head_sha", "actor",
                                                "check_suite_id") if k in query}
            if "created" in filters:
                low, high = _created_range(filters["created"])
                runs = [r for r in runs if low <= _stamp(r["created_at"]) <= high]
            if "branch" in filters:
                runs = [r for r in runs if r.get("head_branch") == filters["branch"]]
            if "event" in filters:
                runs = [r for r in runs if r.get("event") == filters["event"]]
            if "status" in filters:
                runs = [r for r in runs if filters["status"] in (r.get("status"), r.get("conclusion"))]
            if "head_sha" in filters:
                runs = [r for r in runs if r.get("head_sha") == filters["head_sha"]]
            runs = sorted(runs, key=lambda r: (r["created_at"], r["id"]), reverse=True)
            total = len(runs)
            if filters:
                runs = runs[:self.owner.search_cap]
            return self._page(runs, query, path, key="workflow_runs", total=total)
        if rest == "/artifacts":
            items = data.artifacts
            if "name" in query:
                items = [a for a in items if a["name"] == query["name"][0]]
            items = sorted(items, key=lambda a: (a["created_at"], a["id"]), reverse=True)
            return self._page(items, query, path, key="artifacts")
        mm = re.match(r"/artifacts/(\d+)/zip\Z", rest)
        if mm:
            artifact = next((a for a in data.artifacts if a["id"] == int(mm[1])), None)
            if artifact is None:
                raise LookupError(rest)
            if artifact.get("expired"):
                return 410, {"message": "Artifact has expired"}, {}
            return 302, b"", {"Location": f"{self.owner.url}/_blobs/{entry.name}/{artifact['id']}"}
        mm = re.match(r"/runs/(\d+)(?:/attempts/(\d+))?(/jobs|/artifacts)?\Z", rest)
        if not mm:
            raise LookupError(rest)
        run_id = int(mm[1])
        run = next((r for r in data.runs if r["id"] == run_id), None)
        if run is None:
            raise LookupError(rest)
        attempt = int(mm[2]) if mm[2] else None
        if attempt is not None and not 1 <= attempt <= len(data.attempts.get(run_id, [run])):
            raise LookupError(rest)
        if mm[3] == "/artifacts":
            items = sorted((a for a in data.artifacts if a["workflow_run"]["id"] == run_id),
                           key=lambda a: a["id"], reverse=True)
            return self._page(items, query, path, key="artifacts")
        if mm[3] == "/jobs":
            jobs = data.jobs.get(run_id, [])
            if attempt is not None:
                jobs = [j for j in jobs if j["run_attempt"] == attempt]
            elif (query.get("filter") or ["latest"])[0] != "all":
                jobs = [j for j in jobs if j["run_attempt"] == run["run_attempt"]]
            return self._page(jobs, query, path, key="jobs")
        if attempt is not None:
            return 200, data.attempts.get(run_id, [run])[attempt - 1], {}
        return 200, run, {}


GitHubDouble.handler = _Handler


def _stamp(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _created_range(spec: str) -> tuple[float, float]:
    """GitHub's search syntax for dates, as the ``created`` filter takes it: ``>=T``, ``>T``, ``<=T``, ``<T``,
    ``A..B`` (``*`` open), or a bare date (that whole day, UTC). Bounds are inclusive, to the second."""
    from datetime import datetime, timedelta

    def at(text: str) -> float:
        text = text.strip()
        if len(text) == 10:
            text += "T00:00:00Z"
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    inf = float("inf")
    if ".." in spec:
        low, high = spec.split("..", 1)
        return (-inf if low.strip() == "*" else at(low)), (inf if high.strip() == "*" else at(high))
    for prefix, make in ((">=", lambda t: (at(t), inf)), ("<=", lambda t: (-inf, at(t))),
                         (">", lambda t: (at(t) + 1, inf)), ("<", lambda t: (-inf, at(t) - 1))):
        if spec.startswith(prefix):
            return make(spec[len(prefix):])
    day = datetime.fromisoformat(spec.strip() + "T00:00:00+00:00")
    return day.timestamp(), (day + timedelta(days=1)).timestamp() - 1


def _peel_all(git_dir: Path, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    out = _git(git_dir, "rev-parse", *[f"refs/tags/{n}^{{commit}}" for n in names], check=False).split()
    return dict(zip(names, out, strict=False)) if len(out) == len(names) else {
        n: _git(git_dir, "rev-parse", f"refs/tags/{n}^{{commit}}").strip() for n in names}


def _is_ancestor(git_dir: Path, a: str, b: str) -> bool:
    return subprocess.run(["git", "--git-dir", str(git_dir), "merge-base", "--is-ancestor", a, b],
                          capture_output=True).returncode == 0
