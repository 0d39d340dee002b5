"""GitHub as release-please 16.14.1 reads it, and the writes release-please-action makes, for the tests.

:class:`ReleaseGitHub` serves one real bare repository over HTTP on 127.0.0.1, for release-please's
own GitHub class (``src/github.ts`` of 16.14.1, the version googleapis/release-please-action v4.1.4
bundles): the repository, git trees and blobs (``@google-automations/git-file-utils`` reads files
that way), the commit history with the pull requests each commit merged (GraphQL ``history``),
merged and open pull requests (GraphQL ``pullRequests`` and REST ``/pulls``), releases (GraphQL,
newest first) and tags (REST, from :class:`support.github_api.GitHubDouble`).

The writes are played as methods: :meth:`ReleaseGitHub.create_release` is release-please's
``createRelease`` and GitHub's ``POST /repos/{o}/{r}/releases`` behind it (a draft release has no
tag until it is published), :meth:`ReleaseGitHub.open_pull` and :meth:`ReleaseGitHub.merge_pull`
keep the pull requests. Used by tests/actions/release-please (the action's stand-in) and
tests/workflows/test_release_config.py (this repository's configuration).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
from pathlib import Path
from urllib.parse import unquote

from support.github_api import GitHubDouble, _Handler
from support.gitrepo import GIT_ENV

PENDING, TAGGED = "autorelease: pending", "autorelease: tagged"


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

    def history(self, variables: dict) -> dict:
        """GraphQL ``ref(qualifiedName:).target.history``: the branch's commits, newest first, 25 a page
        (the cursor is an offset here), each with the pull requests whose merge commit it is."""
        found = subprocess.run(["git", "--git-dir", str(self.origin), "rev-parse", "--verify", "--quiet",
                                f"refs/heads/{variables['targetBranch']}"], capture_output=True, text=True)
        ref = found.stdout.strip()
        if found.returncode != 0 or not ref:
            return {"repository": {"ref": None}}
        start = int(variables.get("cursor") or 0)
        count = int(variables.get("num") or 25)
        log = origin_git(self.origin, "log", "--format=%H%x00%B%x00", ref)
        fields = log.split("\0")
        commits = [(fields[i].strip(), fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
        page = commits[start:start + count]
        nodes = []
        for sha, message in page:
            files = origin_git(self.origin, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", sha).split()
            pulls = [{"number": p["number"], "title": p["title"], "baseRefName": p["base"], "headRefName": p["head"],
                      "labels": {"nodes": [{"name": n} for n in p["labels"]]}, "body": p["body"],
                      "mergeCommit": {"oid": p["merge_commit_sha"]},
                      "files": {"nodes": [{"path": f} for f in files],
                                "pageInfo": {"hasNextPage": False, "endCursor": None}}}
                     for p in self.pulls if p["merge_commit_sha"] == sha]
            nodes.append({"associatedPullRequests": {"nodes": pulls}, "sha": sha, "message": message.rstrip("\n")})
        more = start + count < len(commits)
        info = {"hasNextPage": more, "endCursor": str(start + count) if more else None}
        return {"repository": {"ref": {"target": {"history": {"nodes": nodes, "pageInfo": info}}}}}

    def merge_pull(self, number: int, sha: str) -> None:
        pull = next(p for p in self.pulls if p["number"] == number)
        pull.update(state="merged", merge_commit_sha=sha)

    def tag_commit(self, tag: str) -> str | None:
        if not origin_git(self.origin, "tag", "--list", tag):
            return None
        return origin_git(self.origin, "rev-parse", f"{tag}^{{commit}}")

    def create_release(self, release: dict) -> dict:
        """release-please's ``createRelease`` and GitHub's ``POST /repos/{o}/{r}/releases`` behind it.

        With ``forceTag`` (release-please 17's force-tag-creation) the tag is created first
        (``git.createRef``; an existing one is kept). GitHub creates the tag at ``target_commitish``
        unless it exists, and for a draft not at all: the tag comes when the draft is published.
        """
        tag = release["tagName"]
        draft = bool(release.get("draft"))
        if (release.get("forceTag") or not draft) and self.tag_commit(tag) is None:
            origin_git(self.origin, "update-ref", f"refs/tags/{tag}", release["sha"])
        number = 100 + len(self.gh_releases)
        url = f"https://github.com/{self.name}/releases/tag/" + (
            f"untagged-{secrets.token_hex(10)}" if draft else tag)
        created = {"id": number, "name": release.get("name") or None, "tagName": tag, "sha": release["sha"],
                   "notes": release.get("notes") or None, "url": url, "draft": draft,
                   "uploadUrl": f"https://uploads.github.com/repos/{self.name}/releases/{number}/assets{{?name,label}}"}
        self.gh_releases.append({**created, "tagCommit": self.tag_commit(tag)})
        for pull in self.pulls:
            if pull["number"] == release["prNumber"]:
                pull["labels"] = [TAGGED if label == PENDING else label for label in pull["labels"]]
        return {k: v for k, v in created.items() if v is not None}


class _ReleaseHandler(_Handler):
    owner: ReleaseGitHub

    def _route(self, path: str, query: dict) -> tuple[int, object, dict]:
        base = f"/repos/{self.owner.name}"
        origin = self.owner.origin
        if path.startswith(f"{base}/git/trees/"):  # git-file-utils' RepositoryFileCache: the whole tree
            ref = unquote(path[len(f"{base}/git/trees/"):])
            tree = origin_git(origin, "rev-parse", "--verify", "--quiet", f"{ref}^{{tree}}")
            recursive = ["-r"] if (query.get("recursive") or [""])[0] else []
            entries = []
            for line in origin_git(origin, "ls-tree", "-l", *recursive, tree).splitlines():
                meta, name = line.split("\t", 1)
                mode, kind, sha, size = meta.split()
                entries.append({"path": name, "mode": mode, "type": kind, "sha": sha,
                                **({"size": int(size)} if size != "-" else {})})
            return 200, {"sha": tree, "tree": entries, "truncated": False}, {}
        if path.startswith(f"{base}/git/blobs/"):
            sha = path[len(f"{base}/git/blobs/"):]
            data = subprocess.run(["git", "--git-dir", str(origin), "cat-file", "blob", sha], capture_output=True,
                                  check=True).stdout
            return 200, {"sha": sha, "size": len(data), "encoding": "base64",
                         "content": base64.b64encode(data).decode()}, {}
        if path == f"{base}/pulls":
            state = (query.get("state") or ["open"])[0]
            base = (query.get("base") or [None])[0]
            items = [_rest_pull(p) for p in reversed(self.owner.pulls)
                     if (base is None or p["base"] == base)
                     and (state == "all" or (p["state"] == "open") == (state == "open"))]
            return self._page(items, query, path)
        return super()._route(path, query)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        payload = json.loads(self.read_body() or b"{}")
        query = payload.get("query", "")
        variables = payload.get("variables") or {k: v for k, v in payload.items() if k != "query"}
        self.owner.graphql_log.append(query.split("(", 1)[0].strip())
        if "history(" in query:  # release-please's commit history with the pull requests of each commit
            data = self.owner.history(variables)
        elif "releases(" in query:
            nodes = [{"name": r.get("name"), "tag": {"name": r["tagName"]} if r["tagCommit"] else None,
                      "tagCommit": {"oid": r["tagCommit"]} if r["tagCommit"] else None,
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


ReleaseGitHub.handler = _ReleaseHandler


def _rest_pull(p: dict) -> dict:
    return {"number": p["number"], "title": p["title"], "body": p["body"], "state": "open" if p["state"] == "open"
            else "closed", "labels": [{"name": n} for n in p["labels"]], "head": {"ref": p["head"]},
            "base": {"ref": p["base"]}, "merged_at": "2026-11-30T12:00:00Z" if p["state"] == "merged" else None,
            "merge_commit_sha": p["merge_commit_sha"]}
