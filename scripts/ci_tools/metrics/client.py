"""What metrics reads from GitHub's REST API, through the retrying transport of :mod:`ci_tools.gha.resolve.github`.

Endpoints (API version 2022-11-28):

- ``GET /repos/{o}/{r}`` (the default branch) and ``GET /orgs/{org}/repos`` (every repository,
  archived and disabled ones left out);
- ``GET /repos/{o}/{r}/actions/runs?created=A..B``, newest first, 100 a page. GitHub answers at most
  1,000 runs for a filtered search, so a window whose ``total_count`` is above that is halved until
  each part fits: a busy month costs a few more listing requests, never a silently cut list;
- ``GET /repos/{o}/{r}/actions/runs/{id}/jobs?filter=all``: the jobs of *every* attempt with their
  steps, in one request for most runs;
- ``GET /repos/{o}/{r}/actions/artifacts``, newest first, read back only as far as needed, and
  ``GET .../artifacts/{id}/zip`` (a redirect to the archive), read to at most ``max_artifact_bytes``.

``Link: rel="next"`` URLs are followed only on the API's own origin: a proxy or a hostile answer cannot
send the token elsewhere. Rate limits (primary and secondary), retries and the token are the
transport's; an answer of the wrong shape is a :class:`~ci_tools.metrics.errors.MetricsError` naming it.
"""

from __future__ import annotations

from urllib.parse import quote

from ci_tools.gha.resolve.base import NotFound
from ci_tools.metrics.errors import MetricsError
from ci_tools.metrics.model import Repository
from ci_tools.metrics.timeutil import api_time, iso

SEARCH_CAP = 1000
MAX_PAGES = 100
DEFAULT_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024


def _q(repo: str) -> str:
    owner, name = repo.split("/", 1)
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


class ActionsClient:
    def __init__(self, github, *, max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES) -> None:
        self.github = github  # a ci_tools.gha.resolve.github.GitHubResolver
        self.max_artifact_bytes = max_artifact_bytes

    @property
    def requests(self) -> int:
        return self.github.requests

    # ------------------------------------------------------------------ transport
    def _get(self, path: str, params: dict | None = None, *, what: str):
        try:
            return self.github.get(path, params=params)
        except NotFound:
            raise MetricsError(self._not_found(what)) from None

    def _not_found(self, what: str) -> str:
        if self.github.token:
            return f"{what} was not found, or the token cannot read it (it needs actions: read)"
        return f"{what} was not found, or it is private (set GITHUB_TOKEN to read private repositories)"

    def _list(self, path: str, params: dict, *, key: str | None, what: str, stop=None):
        """Every item of a paginated list (``key``: the list inside a ``{"total_count", key}`` body).
        ``stop(item)`` ends the reading early (lists newest first). Returns (items, total_count of page 1)."""
        items: list = []
        url: str = path  # the next page's link, when there is one (the loop returns when not)
        query: dict | None = dict(params, per_page=100)
        total: int | None = None
        origin = self.github.api.rstrip("/") + "/"
        for _ in range(MAX_PAGES):
            data, resp = self._get(url, query, what=what)
            if key:
                page = data.get(key) if isinstance(data, dict) else None
                count = data.get("total_count") if isinstance(data, dict) else None
            else:
                page, count = data, len(data) if isinstance(data, list) else None
            if not isinstance(page, list) or not isinstance(count, int):
                raise MetricsError(f"GitHub API answered an unexpected body for {what} (no list of {key or 'items'})")
            if total is None:
                total = count
            for item in page:
                if stop is not None and stop(item):
                    return items, total
                items.append(item)
            url = resp.links.get("next", {}).get("url")
            query = None
            if not url:
                return items, total
            if not url.startswith(origin):
                raise MetricsError(f"GitHub API sent a next page of {what} on another origin; not followed")
        raise MetricsError(f"{what} has more than {MAX_PAGES} pages; giving up")

    # ------------------------------------------------------------------ repositories
    def repository(self, repo: str) -> Repository:
        data, _ = self._get(f"/repos/{_q(repo)}", what=f'repository "{repo}"')
        if not isinstance(data, dict) or not isinstance(data.get("default_branch"), str):
            raise MetricsError(f'GitHub API answered an unexpected body for repository "{repo}"')
        return Repository(str(data.get("full_name") or repo), data["default_branch"], str(data.get("html_url") or ""))

    def organisation(self, org: str) -> list[Repository]:
        items, _ = self._list(f"/orgs/{quote(org, safe='')}/repos", {"type": "all"}, key=None,
                              what=f'organisation "{org}"')
        out = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("full_name"), str):
                raise MetricsError(f'GitHub API answered an unexpected body for organisation "{org}"')
            if item.get("archived") or item.get("disabled"):
                continue
            out.append(Repository(item["full_name"], str(item.get("default_branch") or "main"),
                                  str(item.get("html_url") or "")))
        return out

    # ------------------------------------------------------------------ runs and jobs
    def runs(self, repo: str, start: float, end: float) -> list[dict]:
        """Every run created in ``[start, end]`` (whole seconds, inclusive), newest first."""
        found: dict[int, dict] = {}
        self._runs_between(repo, int(start), int(end + 0.999), found)
        return sorted(found.values(), key=lambda r: (str(r.get("created_at")), r["id"]), reverse=True)

    def _runs_between(self, repo: str, low: int, high: int, found: dict[int, dict]) -> None:
        path = f"/repos/{_q(repo)}/actions/runs"
        what = f'the workflow runs of "{repo}"'
        created = f"{iso(low)}..{iso(high)}"
        data, resp = self._get(path, {"created": created, "per_page": 100}, what=what)
        total = data.get("total_count") if isinstance(data, dict) else None
        page = data.get("workflow_runs") if isinstance(data, dict) else None
        if not isinstance(total, int) or not isinstance(page, list):
            raise MetricsError(f"GitHub API answered an unexpected body for {what} (no workflow_runs)")
        if total > SEARCH_CAP:
            if high - low < 2:
                raise MetricsError(f"{what}: more than {SEARCH_CAP} runs created within one second; cannot list them")
            middle = (low + high) // 2
            self._runs_between(repo, middle + 1, high, found)
            self._runs_between(repo, low, middle, found)
            return
        runs = list(page)
        if resp.links.get("next"):
            rest, _ = self._list(path, {"created": created, "page": 2}, key="workflow_runs", what=what)
            runs.extend(rest)
        if len(runs) < total and high - low >= 2:  # served fewer than it counts: a cap lower than documented
            middle = (low + high) // 2
            self._runs_between(repo, middle + 1, high, found)
            self._runs_between(repo, low, middle, found)
            return
        for run in runs:
            if not isinstance(run, dict) or not isinstance(run.get("id"), int) or isinstance(run.get("id"), bool):
                raise MetricsError(f"GitHub API answered an unexpected body for {what} (a run without an id)")
            found[run["id"]] = run

    def jobs(self, repo: str, run_id: int) -> list[dict]:
        items, _ = self._list(f"/repos/{_q(repo)}/actions/runs/{run_id}/jobs", {"filter": "all"}, key="jobs",
                              what=f'the jobs of run {run_id} of "{repo}"')
        return items

    # ------------------------------------------------------------------ artifacts
    def artifacts(self, repo: str, newer_than: float) -> list[dict]:
        """The repository's artifacts created at or after ``newer_than``, newest first."""
        def older(item) -> bool:
            created = api_time(item.get("created_at")) if isinstance(item, dict) else None
            return created is not None and created < newer_than

        items, _ = self._list(f"/repos/{_q(repo)}/actions/artifacts", {}, key="artifacts",
                              what=f'the artifacts of "{repo}"', stop=older)
        return [a for a in items if isinstance(a, dict)]

    def download(self, repo: str, artifact_id: int) -> bytes:
        body, _ = self.github.get(f"/repos/{_q(repo)}/actions/artifacts/{artifact_id}/zip", raw=True,
                                  max_bytes=self.max_artifact_bytes)
        return body
