"""The GitHub REST API backend (github.com or GitHub Enterprise Server through ``GITHUB_API_URL``).

Per repository, not per occurrence: ``refs`` costs one request per 100 tags (``GET /repos/{o}/{r}/tags``
returns each tag already peeled to its commit, through any chain of annotated tags) plus one per 100
branches. Tag objects are only looked up (``GET /git/tags/{sha}``) when a file pins one.

Every request goes through :meth:`GitHubResolver._get`, which retries, all bounded: 429 with
``Retry-After``, 403 with ``X-RateLimit-Remaining: 0`` until ``X-RateLimit-Reset``, the secondary
rate limit (403 or 429 with ``Retry-After`` while quota remains; without the header, a minute, as
GitHub's documentation asks), 5xx, timeouts, dropped connections and truncated bodies (short
``Content-Length`` or unparsable JSON), with exponential backoff. ``max_bytes`` bounds how much of an
answer is read (an artifact archive), streamed, so a huge answer is refused before it is in memory. Waits longer than ``max_wait`` seconds fail at once with a clear message rather
than hang. The token (``GITHUB_TOKEN`` or ``GH_TOKEN``) is sent as a header and never printed.
"""

from __future__ import annotations

import email.utils
import json
import os
import threading
import time
from urllib.parse import quote

from ci_tools.core.redact import redact
from ci_tools.gha.resolve.base import NotFound, Release, RepoIds, RepoRefs, ResolveError, Resolver
from ci_tools.gha.uses import semver_key

DEFAULT_API = "https://api.github.com"
MAX_PAGES = 50
MAX_CONTAINS_PROBES = 20


def token_from_env() -> str | None:
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


class GitHubResolver(Resolver):
    name = "GitHub API"

    def __init__(self, api_url: str | None = None, token: str | None = None, *, timeout: float | None = None,
                 attempts: int = 5, backoff: float | None = None, max_wait: float | None = None) -> None:
        self.api = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
        self.token = token
        self.timeout = float(os.environ.get("CI_TOOLS_HTTP_TIMEOUT", "20")) if timeout is None else timeout
        self.attempts = attempts
        self.backoff = float(os.environ.get("CI_TOOLS_HTTP_BACKOFF", "1.0")) if backoff is None else backoff
        self.max_wait = float(os.environ.get("CI_TOOLS_HTTP_MAX_WAIT", "120")) if max_wait is None else max_wait
        self.requests = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    # ------------------------------------------------------------------- transport
    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.trust_env = self.api.startswith("https://")  # no proxy detour for 127.0.0.1 tests
            session.headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                                    "User-Agent": "ci-tools"})
            if self.token:
                session.headers["Authorization"] = f"Bearer {self.token}"
            self._local.session = session
        return session

    def _get(self, path: str, *, params: dict | None = None, accept: str | None = None, raw: bool = False,
             max_bytes: int | None = None):
        """GET with bounded retries; returns (parsed JSON or bytes, response). Raises NotFound/ResolveError.

        Bounded twice: ``attempts``, and the time budget of the loop (:mod:`ci_tools.gha.resolve.net`). A
        refused connection or an unknown host is not retried: the message names the URL and what to check.
        ``max_bytes`` stops reading an answer that grows past it."""
        import requests

        from ci_tools.gha.resolve.net import Deadline, advice, unreachable

        url = path if path.startswith(("http://", "https://")) else self.api + path
        headers = {"Accept": accept} if accept else None
        problem = "no attempt made"
        deadline = Deadline()
        attempt = 0
        for attempt in range(1, self.attempts + 1):
            wait = self.backoff * (2 ** (attempt - 1))
            timeout = max(0.1, min(self.timeout, deadline.remaining()))
            try:
                with self._lock:
                    self.requests += 1
                resp = self._session().get(url, params=params, headers=headers, timeout=timeout,
                                           stream=max_bytes is not None)
                body = resp.content if max_bytes is None else _read_bounded(resp, max_bytes, self._where(url))
            except requests.Timeout:
                problem = f"timed out after {timeout:g} s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                why = unreachable(exc)
                if why is not None:
                    raise ResolveError(redact(
                        f"cannot connect to {self.api} ({why}) for {self._where(url)}: check GITHUB_API_URL "
                        f"({'set' if os.environ.get('GITHUB_API_URL') else 'not set, so api.github.com'}) and that "
                        "the server is up and reachable from here")) from None
                problem = "connection dropped (truncated response)"
            else:
                status = resp.status_code
                expected = resp.headers.get("Content-Length")
                if expected is not None and expected.isdigit() and int(expected) != len(body):
                    problem = "truncated response"
                elif status == 403 and _secondary_limit(resp, body):  # 429 is waited out below either way
                    wait = self._rate_limit_wait(resp)
                    wait = SECONDARY_WAIT if wait is None else wait
                    if wait > self.max_wait:
                        raise ResolveError(f"GitHub API secondary rate limit reached at {self._where(url)}; "
                                           f"it asks to wait {wait:.0f}s, more than the {self.max_wait:.0f}s allowed "
                                           "(CI_TOOLS_HTTP_MAX_WAIT); make fewer requests at once (--jobs)")
                    problem = "secondary rate limit"
                elif status == 429 or (status == 403 and resp.headers.get("X-RateLimit-Remaining") == "0"):
                    wait = self._rate_limit_wait(resp)
                    if wait is None or wait > self.max_wait or not deadline.allows(wait):
                        over = "" if wait is None or wait > self.max_wait else f"; waiting {wait:.0f} s would " \
                            f"overrun {deadline.text()}"
                        raise ResolveError(f"GitHub API rate limit reached at {self._where(url)}; "
                                           f"{self._reset_text(resp)}{over}"
                                           + ("" if self.token else "; set GITHUB_TOKEN for a higher limit"))
                    problem = "rate limited"
                elif status >= 500:
                    problem = f"HTTP {status}"
                elif status == 404 or status == 422 and "/git/tags/" in url:
                    raise NotFound(self._where(url))
                elif status >= 400:
                    message = _api_message(body)
                    raise ResolveError(f"GitHub API answered HTTP {status} for {self._where(url)}"
                                       + (f": {message}" if message else ""))
                elif raw:
                    return body, resp
                else:
                    try:
                        return json.loads(body), resp
                    except ValueError:
                        problem = "truncated or invalid JSON response"
            if attempt >= self.attempts:
                break
            wait = min(wait, self.max_wait)
            if not deadline.allows(wait):
                problem += f", and another attempt would overrun {deadline.text()}"
                break
            time.sleep(wait)
        raise ResolveError(redact(f"GitHub API request for {self._where(url)} failed after {attempt} attempt"
                                  f"{'s' * (attempt != 1)} in {deadline.elapsed():.0f} s: {problem}; "
                                  + advice(problem, "GITHUB_API_URL")))

    def get(self, path: str, *, params: dict | None = None, accept: str | None = None, raw: bool = False,
            max_bytes: int | None = None):
        """One GET through the retrying transport, for domains beyond the :class:`Resolver` interface
        (``metrics`` reads the Actions API with it): ``(parsed JSON or bytes, response)``."""
        return self._get(path, params=params, accept=accept, raw=raw, max_bytes=max_bytes)

    def _where(self, url: str) -> str:
        return redact(url.split("?", 1)[0])

    @staticmethod
    def _rate_limit_wait(resp) -> float | None:
        retry_after = resp.headers.get("Retry-After")
        if retry_after:
            if retry_after.strip().isdigit():
                return float(retry_after)
            try:
                return max(0.0, email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time())
            except (TypeError, ValueError):
                return None
        reset = resp.headers.get("X-RateLimit-Reset")
        if reset and reset.strip().isdigit():
            return max(0.0, int(reset) - time.time()) + 0.5
        return None

    @staticmethod
    def _reset_text(resp) -> str:
        reset = resp.headers.get("X-RateLimit-Reset")
        if reset and reset.isdigit():
            return "it resets at " + time.strftime("%H:%M:%S UTC", time.gmtime(int(reset)))
        return "retry later"

    def _pages(self, path: str) -> list:
        items: list = []
        url: str = path  # the next page's link, when there is one (the loop returns when not)
        params: dict | None = {"per_page": 100}
        for _ in range(MAX_PAGES):
            data, resp = self._get(url, params=params)
            if not isinstance(data, list):
                raise ResolveError(f"GitHub API answered an unexpected body for {self._where(self.api + path)}")
            items.extend(data)
            url = resp.links.get("next", {}).get("url")
            params = None  # the next link carries them
            if not url:
                return items
            if not _same_origin(url, self.api):  # the session would send the token there
                raise ResolveError(f"GitHub API sent the next page of {self._where(self.api + path)} on another "
                                   "origin; not followed")
        raise ResolveError(f"{self._where(self.api + path)} has more than {MAX_PAGES} pages; giving up")

    # -------------------------------------------------------------------- resolver
    def refs(self, repo: str) -> RepoRefs:
        base = f"/repos/{_q(repo)}"
        try:
            tags = {t["name"]: t["commit"]["sha"] for t in self._pages(f"{base}/tags")}
            branches = {b["name"]: b["commit"]["sha"] for b in self._pages(f"{base}/branches")}
        except NotFound:
            raise NotFound(self._not_found(repo)) from None
        except (KeyError, TypeError):
            raise ResolveError(f"GitHub API answered an unexpected body for {repo}") from None
        return RepoRefs(tags, branches)

    def _not_found(self, repo: str) -> str:
        if self.token:
            return f'repository "{repo}" was not found, or the token cannot read it'
        return f'repository "{repo}" was not found, or it is private (set GITHUB_TOKEN to read private repositories)'

    def peel(self, repo: str, sha: str) -> str | None:
        current, seen = sha, 0
        while seen < 10:
            try:
                data, _ = self._get(f"/repos/{_q(repo)}/git/tags/{current}")
            except NotFound:
                return None if seen == 0 else current
            obj = data.get("object") or {}
            seen += 1
            if obj.get("type") == "commit":
                return obj.get("sha")
            if obj.get("type") != "tag" or not isinstance(obj.get("sha"), str):
                return None
            current = obj["sha"]
        return None

    def contains(self, repo: str, sha: str, refs: RepoRefs) -> bool | None:
        if sha in refs.tags.values() or sha in refs.branches.values():
            return True
        branches = sorted(refs.branches, key=lambda b: (b not in ("main", "master", refs.default_branch), b))
        tags = sorted(refs.tags, key=lambda t: semver_key(t) or (-1,), reverse=True)
        probes = [b for b in branches][:MAX_CONTAINS_PROBES] + tags[:MAX_CONTAINS_PROBES]
        existed = False
        for base in probes:
            try:
                data, _ = self._get(f"/repos/{_q(repo)}/compare/{quote(base, safe='')}...{sha}")
            except NotFound:
                continue
            existed = True
            if data.get("status") in ("behind", "identical"):
                return True
        if not existed:
            try:
                self._get(f"/repos/{_q(repo)}/commits/{sha}")
            except NotFound:
                return None
        return False

    def releases(self, repo: str) -> list[Release]:
        try:
            items = self._pages(f"/repos/{_q(repo)}/releases")
        except NotFound:
            raise NotFound(self._not_found(repo)) from None
        return [Release(str(r.get("tag_name", "")), r.get("published_at"), bool(r.get("draft")),
                        bool(r.get("prerelease")), r.get("html_url"),
                        r["immutable"] if isinstance(r.get("immutable"), bool) else None)
                for r in items if isinstance(r, dict) and r.get("tag_name")]

    def get_file(self, repo: str, path: str, sha: str) -> bytes | None:
        try:
            body, _ = self._get(f"/repos/{_q(repo)}/contents/{quote(path)}", params={"ref": sha},
                                accept="application/vnd.github.raw+json", raw=True)
        except NotFound:
            return None
        return body

    def advisories(self, ecosystem: str = "actions") -> list[dict]:
        """``GET /advisories?type=reviewed&ecosystem=...``, every page."""
        return [a for a in self._pages(f"/advisories?type=reviewed&ecosystem={quote(ecosystem, safe='')}")
                if isinstance(a, dict)]

    def repo_id(self, repo: str) -> RepoIds | None:
        try:
            data, _ = self._get(f"/repos/{_q(repo)}")
        except NotFound:
            return None
        return RepoIds(int(data["id"]), (data.get("owner") or {}).get("id"))


SECONDARY_WAIT = 60.0  # GitHub: without retry-after, wait at least one minute before retrying


def _secondary_limit(resp, body: bytes) -> bool:
    """A secondary rate limit: quota remains (the primary limit is X-RateLimit-Remaining: 0), yet GitHub
    refuses with Retry-After, or says so in its message."""
    if resp.headers.get("X-RateLimit-Remaining") == "0":
        return False
    if resp.headers.get("Retry-After"):
        return True
    return b"secondary rate limit" in body[:2000].lower()


def _read_bounded(resp, max_bytes: int, where: str) -> bytes:
    """The body of a streamed response, refusing one longer than ``max_bytes`` before reading it all."""
    from ci_tools.core.http import TooLarge, read_bounded

    try:
        return read_bounded(resp, max_bytes)
    except TooLarge as big:
        size = f"{big.declared} bytes, larger" if big.declared is not None else "larger"
        raise ResolveError(f"{where} answered {size} than {max_bytes} bytes; not read") from None


def _q(repo: str) -> str:
    owner, name = repo.split("/", 1)
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


def _api_message(body: bytes) -> str:
    try:
        return redact(str(json.loads(body).get("message", "")))[:200]
    except (ValueError, AttributeError):
        return ""


def _same_origin(url: str, api: str) -> bool:
    """Whether ``url`` is on the API's scheme, host and port (a ``Link`` header's next page must be)."""
    from urllib.parse import urlsplit

    a, b = urlsplit(url), urlsplit(api)
    return (a.scheme.lower(), a.hostname, a.port) == (b.scheme.lower(), b.hostname, b.port) \
        and a.path.startswith(b.path.rstrip("/") + "/")
