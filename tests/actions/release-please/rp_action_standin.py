"""A stand-in for googleapis/release-please-action built on the real release-please library.

What is real and what is played:

- **Real**: release-please itself (npm, the version in ``support.npm_release_please``), run by
  ``rp_build.js`` the way release-please-action's ``src/index.ts`` runs it: ``Manifest.fromManifest``
  with the config and manifest files, then ``buildReleases`` (which merged release pull requests
  to tag, the version, tag name, notes and commit) and ``buildPullRequests`` (the release pull
  request it would open: title, body, branch, from the real commit history). It reads a real git
  clone of a real bare ``origin`` (``LocalGitHub``), and its few GitHub reads (merged pull requests,
  releases) go over HTTP to a loopback GitHub stand-in. A configuration release-please rejects
  makes the step fail with release-please's own message, as ``core.setFailed`` would.
- **Played** (GitHub cannot run here): the GitHub writes that ``createReleases`` and
  ``createPullRequests`` make. Creating a release creates its tag in ``origin`` at the release
  commit, unless the tag already exists (GitHub then keeps the existing tag, as its API documents
  for ``target_commitish``), and relabels the pull request ``autorelease: tagged``; opening a pull
  request gives it a number (an open one on the same branch is updated instead).
- **Mapped**: :func:`action_outputs` is ``outputReleases``/``outputPRs`` of release-please-action
  v4.1.4 ``src/index.ts`` with ``@actions/core``'s ``toCommandValue`` (strings as they are,
  ``undefined`` empty, anything else ``JSON.stringify``), so the action under test sees exactly the
  outputs release-please-action would set: unprefixed for the root package ``.``, else
  ``<path>--<key>``.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from support.github_api import GitHubDouble, _Handler
from support.gitrepo import GIT_ENV
from support.npm_release_please import release_please_dir
from support.runner import StandInFailure, StepCall

HERE = Path(__file__).resolve().parent
PENDING, TAGGED = "autorelease: pending", "autorelease: tagged"


def to_command_value(value: Any) -> str:
    """``@actions/core`` ``toCommandValue``: how ``core.setOutput`` turns a value into a string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def action_outputs(releases: list[dict], prs: list[dict]) -> dict[str, str]:
    """The outputs release-please-action v4.1.4 sets for these CreatedReleases and PullRequests."""
    out: dict[str, str] = {}

    def set_path_output(path: str, key: str, value: Any) -> None:
        out[key if path == "." else f"{path}--{key}"] = to_command_value(value)

    renamed = {"tagName": "tag_name", "uploadUrl": "upload_url", "notes": "body", "url": "html_url"}
    out["releases_created"] = to_command_value(len(releases) > 0)
    paths_released = []
    for release in releases:
        path = release.get("path") or "."
        paths_released.append(path)
        set_path_output(path, "release_created", True)
        for key, value in release.items():
            set_path_output(path, renamed.get(key, key), value)
    out["paths_released"] = json.dumps(paths_released, separators=(",", ":"))
    out["prs_created"] = to_command_value(len(prs) > 0)
    if prs:
        out["pr"] = to_command_value(prs[0])
        out["prs"] = json.dumps(prs, separators=(",", ":"))
    return out


def origin_git(origin: Path, *args: str) -> str:
    done = subprocess.run(["git", "--git-dir", str(origin), *args], env={**os.environ, **GIT_ENV},
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


class ReleaseGitHub(GitHubDouble):
    """GitHubDouble plus what release-please reads: pull requests (REST) and releases (GraphQL)."""

    def __init__(self, name: str, origin: Path) -> None:
        super().__init__()
        self.name = name
        self.origin = origin
        self.entry = self.add_repo(name, origin)
        self.pulls: list[dict] = []  # number, title, body, head, base, labels, state, merge_commit_sha
        self.gh_releases: list[dict] = []  # newest last
        self.graphql_log: list[str] = []

    def start(self) -> str:
        double = self

        class Handler(_ReleaseHandler):
            owner = double

        from http.server import ThreadingHTTPServer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    # ------------------------------------------------------------------ GitHub's writes, played
    def open_pull(self, title: str, body: str, head: str, base: str, labels: list[str]) -> dict:
        for pull in self.pulls:
            if pull["state"] == "open" and pull["head"] == head:
                pull.update(title=title, body=body, labels=list(labels))
                return pull
        pull = {"number": 7 + len(self.pulls), "title": title, "body": body, "head": head, "base": base,
                "labels": list(labels), "state": "open", "merge_commit_sha": None}
        self.pulls.append(pull)
        return pull

    def merge_pull(self, number: int, sha: str) -> None:
        pull = next(p for p in self.pulls if p["number"] == number)
        pull.update(state="merged", merge_commit_sha=sha)

    def create_release(self, release: dict) -> dict:
        """``POST /repos/{o}/{r}/releases``: the tag is created at ``target_commitish`` unless it exists."""
        tag = release["tagName"]
        if not origin_git(self.origin, "tag", "--list", tag):
            origin_git(self.origin, "update-ref", f"refs/tags/{tag}", release["sha"])
        number = 100 + len(self.gh_releases)
        url = f"https://github.com/{self.name}/releases/tag/{tag}"
        created = {"id": number, "name": release.get("name") or None, "tagName": tag, "sha": release["sha"],
                   "notes": release.get("notes") or None, "url": url, "draft": bool(release.get("draft")),
                   "uploadUrl": f"https://uploads.github.com/repos/{self.name}/releases/{number}/assets{{?name,label}}"}
        self.gh_releases.append({**created, "tagCommit": origin_git(self.origin, "rev-parse", f"{tag}^{{commit}}")})
        for pull in self.pulls:
            if pull["number"] == release["prNumber"]:
                pull["labels"] = [TAGGED if label == PENDING else label for label in pull["labels"]]
        return {k: v for k, v in created.items() if v is not None}


class _ReleaseHandler(_Handler):
    owner: ReleaseGitHub

    def _route(self, path: str, query: dict) -> tuple[int, object, dict]:
        if path == f"/repos/{self.owner.name}/pulls":
            state = (query.get("state") or ["open"])[0]
            base = (query.get("base") or [None])[0]
            items = [_rest_pull(p) for p in reversed(self.owner.pulls)
                     if (base is None or p["base"] == base)
                     and (state == "all" or (p["state"] == "open") == (state == "open"))]
            return self._page(items, query, path)
        return super()._route(path, query)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("content-length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        query = payload.get("query", "")
        variables = payload.get("variables") or {k: v for k, v in payload.items() if k != "query"}
        self.owner.graphql_log.append(query.split("(", 1)[0].strip())
        if "releases(" in query:
            nodes = [{"name": r.get("name"), "tag": {"name": r["tagName"]}, "tagCommit": {"oid": r["tagCommit"]},
                      "url": r["url"], "description": r.get("notes") or "", "isDraft": r["draft"]}
                     for r in reversed(self.owner.gh_releases)]
            data = {"repository": {"releases": {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
        elif "pullRequests(" in query:
            states = variables.get("states") or ["MERGED"]
            states = [states] if isinstance(states, str) else states
            nodes = [{"number": p["number"], "title": p["title"], "baseRefName": p["base"], "headRefName": p["head"],
                      "labels": {"nodes": [{"name": n} for n in p["labels"]]}, "body": p["body"],
                      "mergeCommit": {"oid": p["merge_commit_sha"]} if p["merge_commit_sha"] else None,
                      "files": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
                     for p in reversed(self.owner.pulls)
                     if p["base"] == variables.get("targetBranch") and p["state"].upper() in states]
            data = {"repository": {"pullRequests": {"nodes": nodes,
                                                    "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
        else:
            return self._send(400, json.dumps({"message": "query not played by this stand-in"}).encode(), {})
        self._send(200, json.dumps({"data": data}).encode(), {})


def _rest_pull(p: dict) -> dict:
    return {"number": p["number"], "title": p["title"], "body": p["body"], "state": "open" if p["state"] == "open"
            else "closed", "labels": [{"name": n} for n in p["labels"]], "head": {"ref": p["head"]},
            "base": {"ref": p["base"]}, "merged_at": "2026-11-30T12:00:00Z" if p["state"] == "merged" else None,
            "merge_commit_sha": p["merge_commit_sha"]}


class ReleasePleaseAction:
    """The runner's stand-in for ``googleapis/release-please-action``: real release-please, played GitHub."""

    def __init__(self, github: ReleaseGitHub) -> None:
        self.github = github
        self.calls: list[StepCall] = []
        self.runs = 0

    def _build(self, mode: str, call: StepCall, clone: Path) -> list[dict]:
        owner, repo = self.github.name.split("/")
        options = {"owner": owner, "repo": repo, "token": call.inputs.get("token", ""),
                   "apiUrl": self.github.url, "graphqlUrl": self.github.url, "clone": str(clone),
                   "targetBranch": call.inputs.get("target-branch", ""),
                   "configFile": call.inputs.get("config-file") or "release-please-config.json",
                   "manifestFile": call.inputs.get("manifest-file") or ".release-please-manifest.json"}
        out_file = call.temp / f"release-please-{mode}-{self.runs}.json"
        done = subprocess.run(["node", str(HERE / "rp_build.js"), str(release_please_dir()), mode,
                               json.dumps(options), str(out_file)],
                              cwd=clone, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.startswith("release-please failed")]
            raise StandInFailure(lines[-1] if lines else f"release-please failed: {done.stderr.strip()[-500:]}")
        return json.loads(out_file.read_text())

    def __call__(self, call: StepCall) -> dict[str, str]:
        self.calls.append(call)
        self.runs += 1
        clone = call.temp / f"release-please-clone-{self.runs}"
        subprocess.run(["git", "clone", "-q", str(self.github.origin), str(clone)], env={**os.environ, **GIT_ENV},
                       check=True, capture_output=True)
        created = []
        for release in self._build("releases", call, clone):
            github_release = self.github.create_release(release)
            created.append({**github_release, "path": release["path"], "version": release["version"],
                            "major": release["major"], "minor": release["minor"], "patch": release["patch"],
                            "prNumber": release["prNumber"]})
        pulls = []
        base = call.inputs.get("target-branch") or self.github.entry.default_branch
        for proposal in self._build("pull-requests", call, clone):
            pull = self.github.open_pull(proposal["title"], proposal["body"], proposal["headBranchName"], base,
                                         proposal["labels"])
            pulls.append({"headBranchName": pull["head"], "baseBranchName": base, "number": pull["number"],
                          "title": pull["title"], "body": pull["body"], "files": [], "labels": pull["labels"]})
        return action_outputs(created, pulls)
