"""A stand-in for googleapis/release-please-action built on the real release-please library.

What is real and what is played:

- **Real**: release-please itself, at the version release-please-action v4.1.4 bundles (16.14.1:
  its package.json and package-lock.json at d1a8f221d7723166f48a584aebba00ef3f6febec; the npm
  lock in tests/npm pins the same version and integrity hash, test_shipped_version.py holds the
  two together). ``rp_build.js`` runs it the way release-please-action's ``src/index.ts`` does:
  ``GitHub.create``, ``Manifest.fromManifest`` with the config and manifest files, then
  ``buildReleases`` (which merged release pull requests to tag, the version, tag name, notes and
  commit) and ``buildPullRequests`` (the release pull request it would open: title, body, branch,
  from the real commit history). Every read goes through release-please's own GitHub class over
  HTTP to the loopback GitHub stand-in below, which answers from a real bare ``origin``: git trees
  and blobs (the files), the commit history with its pull requests (GraphQL ``history``), merged
  and open pull requests, releases, tags. A configuration release-please rejects makes the step
  fail with release-please's own message, as ``core.setFailed`` would.
- **Played** (GitHub cannot run here, :mod:`support.release_github`): the GitHub writes that ``createReleases`` and
  ``createPullRequests`` make. ``createRelease`` of release-please's GitHub class (16.14.1
  ``src/github.ts``) posts ``repos.createRelease`` with ``draft`` and ``target_commitish``; GitHub
  then creates the tag at that commit unless it exists, **except for a draft**: a draft release
  has no tag until it is published (release-please's own ``--draft`` help: "no tag is created but
  tag_name and target_commitish are associated with the release for future tag creation upon
  un-drafting"), its ``html_url`` is ``.../releases/tag/untagged-<id>``, and GraphQL shows it with
  no ``tag`` and no ``tagCommit``. release-please 17 added ``force-tag-creation``, which creates
  the tag first (``git.createRef``); the stand-in does so only when the release-please under test
  asks for it, which 16.14.1 never does. Opening a pull request gives it a number (an open one on
  the same branch is updated instead); a release relabels its pull request ``autorelease: tagged``.
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
from pathlib import Path
from typing import Any

from support.gitrepo import GIT_ENV
from support.npm_release_please import release_please_dir
from support.release_github import PENDING, TAGGED, ReleaseGitHub
from support.runner import StandInFailure, StepCall

HERE = Path(__file__).resolve().parent
__all__ = ["PENDING", "TAGGED", "ReleaseGitHub", "ReleasePleaseAction", "action_outputs"]


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


class ReleasePleaseAction:
    """The runner's stand-in for ``googleapis/release-please-action``: real release-please, played GitHub."""

    def __init__(self, github: ReleaseGitHub) -> None:
        self.github = github
        self.calls: list[StepCall] = []
        self.runs = 0

    def _build(self, mode: str, call: StepCall) -> list[dict]:
        owner, repo = self.github.name.split("/")
        options = {"owner": owner, "repo": repo, "token": call.inputs.get("token", ""),
                   "apiUrl": self.github.url, "graphqlUrl": self.github.url,
                   "targetBranch": call.inputs.get("target-branch", ""),
                   "configFile": call.inputs.get("config-file") or "release-please-config.json",
                   "manifestFile": call.inputs.get("manifest-file") or ".release-please-manifest.json"}
        out_file = call.temp / f"release-please-{mode}-{self.runs}.json"
        done = subprocess.run(["node", str(HERE / "rp_build.js"), str(release_please_dir()), mode,
                               json.dumps(options), str(out_file)],
                              cwd=call.temp, env={**os.environ, **GIT_ENV}, capture_output=True, text=True,
                              timeout=180)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.startswith("release-please failed")]
            raise StandInFailure(lines[-1] if lines else f"release-please failed: {done.stderr.strip()[-500:]}")
        return json.loads(out_file.read_text())

    def __call__(self, call: StepCall) -> dict[str, str]:
        self.calls.append(call)
        self.runs += 1
        created = []
        for release in self._build("releases", call):
            github_release = self.github.create_release(release)
            # Manifest.createRelease of 16.14.1: the GitHub release, then path, version, major, minor,
            # patch (17.x adds prNumber, which release-please-action v4.1.4 therefore never outputs)
            created.append({**github_release, "path": release["path"], "version": release["version"],
                            "major": release["major"], "minor": release["minor"], "patch": release["patch"]})
        pulls = []
        base = call.inputs.get("target-branch") or self.github.entry.default_branch
        for proposal in self._build("pull-requests", call):
            pull = self.github.open_pull(proposal["title"], proposal["body"], proposal["headBranchName"], base,
                                         proposal["labels"])
            pulls.append({"headBranchName": pull["head"], "baseBranchName": base, "number": pull["number"],
                          "title": pull["title"], "body": pull["body"], "files": [], "labels": pull["labels"]})
        return action_outputs(created, pulls)
