"""Normalise googleapis/release-please-action's outputs and move the floating major/minor tags.

Subcommands (run by ``action.yml``; inputs come through the environment):

``normalise``
    Reads ``RP_OUTPUTS`` (``toJSON(steps.<release-please>.outputs)``) and the package ``INPUT_PATH``
    and writes ``release-created`` (always ``true`` or ``false``: release-please-action leaves
    ``release_created`` unset when nothing was released, and ``"false"`` would be truthy in ``if:``),
    ``tag``, ``version``, ``sha``, ``major``, ``minor``, ``patch``, ``draft`` and ``pr``. release-please-action
    names a manifest package's outputs ``<path>--<key>``, except the root package ``.`` whose
    outputs are unprefixed; that mapping lives here, in one place.

``move-tags``
    Points ``v1`` and ``v1.2`` (the release tag's prefix, then major, then major.minor) at the
    release commit as lightweight tags and force-pushes them to the repository
    (``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git``, from a scratch repository: no checkout needed).
    It refuses, without failing, to move a tag for a draft release (GitHub creates a draft's tag
    only when the draft is published), for a prerelease or backwards (when a higher release of that
    major or minor line exists), and fails when the release tag does not point at the release
    commit.

Standard library only: composite actions run with the runner's ``python3``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
import inputs  # noqa: E402
from actionkit import ActionFailure  # noqa: E402

SEMVER = re.compile(
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
SHA = re.compile(r"[0-9a-f]{40}")
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/@+-]*")
GIT_TIMEOUT = 300


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: str = ""

    @classmethod
    def parse(cls, text: str) -> Version | None:
        match = SEMVER.fullmatch(text)
        if not match:
            return None
        return cls(int(match["major"]), int(match["minor"]), int(match["patch"]), match["pre"] or "")

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


# ---------------------------------------------------------------------------------------- normalise


def package_path(raw: str) -> str:
    """The manifest key release-please-action prefixes outputs with: ``.`` for the root package."""
    path = raw.strip().strip("/")
    while path.startswith("./"):
        path = path[2:].lstrip("/")
    return path or "."


def read_outputs(raw: str) -> dict[str, str]:
    if not raw.strip():
        raise ActionFailure("invalid-output", "release-please-action's outputs were not passed to the normalise step")
    try:
        outputs = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ActionFailure("invalid-output", f"release-please-action's outputs are not JSON: {error.msg}") from None
    if not isinstance(outputs, dict) or not all(isinstance(v, str) for v in outputs.values()):
        raise ActionFailure("invalid-output", "release-please-action's outputs are not an object of strings")
    return outputs


def pr_number(outputs: dict[str, str]) -> str:
    """The release pull request's number from the ``pr`` output (a JSON PullRequest), or ``""``."""
    raw = outputs.get("pr", "").strip()
    if not raw:
        return ""
    try:
        pull = json.loads(raw)
    except json.JSONDecodeError:
        raise ActionFailure("invalid-output", "release-please-action's `pr` output is not JSON") from None
    number = pull.get("number") if isinstance(pull, dict) else None
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise ActionFailure("invalid-output", "release-please-action's `pr` output has no pull request number")
    return str(number)


def paths_released(outputs: dict[str, str]) -> str:
    """Every package released in this run, as a JSON list (release-please-action's ``paths_released``)."""
    raw = outputs.get("paths_released", "").strip() or "[]"
    try:
        paths = json.loads(raw)
    except json.JSONDecodeError:
        paths = None
    if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
        raise ActionFailure("invalid-output", "release-please-action's `paths_released` output is not a JSON list")
    return json.dumps(paths, separators=(",", ":"))


def release_fields(outputs: dict[str, str], path: str) -> dict[str, str] | None:
    """The validated release of ``path``, or None when release-please-action released nothing there."""
    prefix = "" if path == "." else f"{path}--"
    created = outputs.get(f"{prefix}release_created", "").strip()
    if created in ("", "false"):
        return None
    if created != "true":
        raise ActionFailure("invalid-output", f"{prefix}release_created is {created!r}, expected true or unset")
    tag = outputs.get(f"{prefix}tag_name", "").strip()
    version_text = outputs.get(f"{prefix}version", "").strip()
    sha = outputs.get(f"{prefix}sha", "").strip()
    version = Version.parse(version_text)
    if version is None:
        raise ActionFailure("invalid-output", f"release {tag or '?'} has no semantic version ({version_text!r})")
    if not TAG.fullmatch(tag) or ".." in tag or not tag.endswith(version_text):
        raise ActionFailure("invalid-output", f"release tag {tag!r} does not end with its version {version_text}")
    if not SHA.fullmatch(sha):
        raise ActionFailure("invalid-output", f"release {tag} has no commit SHA ({sha!r})")
    for part in ("major", "minor", "patch"):
        given = outputs.get(f"{prefix}{part}", "").strip()
        if given and given != str(getattr(version, part)):
            raise ActionFailure("invalid-output", f"release {tag}: {part} is {given}, but its version is {version_text}")
    draft = outputs.get(f"{prefix}draft", "").strip() or "false"
    if draft not in ("true", "false"):
        raise ActionFailure("invalid-output", f"release {tag}: draft is {draft!r}, expected true or false")
    return {"tag": tag, "version": version_text, "sha": sha, "major": str(version.major),
            "minor": str(version.minor), "patch": str(version.patch), "draft": draft,
            "url": outputs.get(f"{prefix}html_url", "")}


def links() -> tuple[str, str]:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return server, os.environ.get("GITHUB_REPOSITORY", "")


def normalise() -> None:
    wanted_tags()  # a bad move-tags input fails every run, not only the next release's
    outputs = read_outputs(os.environ.get("RP_OUTPUTS", ""))
    path = package_path(inputs.text("path"))
    release = release_fields(outputs, path)
    pull = pr_number(outputs)
    released = paths_released(outputs)
    actionkit.set_output("release-created", "true" if release else "false")
    for key in ("tag", "version", "sha", "major", "minor", "patch"):
        actionkit.set_output(key, release[key] if release else "")
    actionkit.set_output("draft", release["draft"] if release else "false")
    actionkit.set_output("pr", pull)
    actionkit.set_output("paths-released", released)
    server, repository = links()
    where = "" if path == "." else f" (package `{actionkit.md_escape(path)}`)"
    lines = ["### release-please", ""]
    if release:
        url = release["url"] or f"{server}/{repository}/releases/tag/{release['tag']}"
        draft = " as a **draft** (GitHub creates its tag when the draft is published)" if release["draft"] == "true" else ""
        lines.append(f"Released [{release['tag']}]({url}){where}{draft} at "
                     f"[`{release['sha'][:12]}`]({server}/{repository}/commit/{release['sha']}).")
        print(f"release {release['tag']} ({release['version']}) at {release['sha']}{' (draft)' if draft else ''}")
    else:
        lines.append(f"No release{where} in this run.")
        print(f"no release{' of ' + path if path != '.' else ''}")
    if pull:
        lines.append(f"Release pull request: [#{pull}]({server}/{repository}/pull/{pull}).")
        print(f"release pull request #{pull}")
    actionkit.summary("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------- move-tags


def git(*args: str, cwd: Path, env: dict[str, str], reason: str) -> str:
    """Run git; a failure becomes ``reason`` with git's last line of error (never a token)."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ActionFailure(reason, f"git {args[0]} took longer than {GIT_TIMEOUT}s") from None
    except OSError as error:
        raise ActionFailure(reason, f"cannot run git: {error.strerror}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()] or ["(no message)"]
        rejected = [line for line in lines if line.startswith("! [")]  # git push's per-ref status says why
        raise ActionFailure(reason, f"git {args[0]} failed: {'; '.join(rejected) or lines[-1]}")
    return done.stdout


def git_env(server: str) -> dict[str, str]:
    """git's environment: no prompts, and the token as an HTTP header for the GitHub server only.

    The header is the one actions/checkout configures, but passed through ``GIT_CONFIG_*`` (never
    argv, a file or the log) and scoped to the GitHub server's URL.
    """
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    token = inputs.text("token")
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        count = int(env.get("GIT_CONFIG_COUNT") or 0)
        env.update({"GIT_CONFIG_COUNT": str(count + 1), f"GIT_CONFIG_KEY_{count}": f"http.{server}/.extraheader",
                    f"GIT_CONFIG_VALUE_{count}": f"AUTHORIZATION: basic {basic}"})
    return env


def remote_tags(cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """origin's tags, each peeled to the commit it names."""
    out = git("ls-remote", "--tags", "origin", cwd=cwd, env=env, reason="fetch-failed")
    direct: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if not ref.startswith("refs/tags/"):
            continue
        name = ref[len("refs/tags/"):]
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            direct[name] = sha
    return {name: peeled.get(name, sha) for name, sha in direct.items()}


def wanted_tags() -> list[str]:
    both = inputs.boolean("move-tags")
    major, minor = inputs.boolean("move-major-tag"), inputs.boolean("move-minor-tag")
    kinds = []
    if both or major:
        kinds.append("major")
    if both or minor:
        kinds.append("minor")
    return kinds


def newest(tags: dict[str, str], prefix: str, version: Version, kind: str) -> tuple[str, Version] | None:
    """The highest final release of the same major (or major.minor) line above ``version``, if any."""
    best: tuple[str, Version] | None = None
    for name in tags:
        if not name.startswith(prefix):
            continue
        other = Version.parse(name[len(prefix):])
        if other is None or other.prerelease or other.major != version.major:
            continue
        if kind == "minor" and other.minor != version.minor:
            continue
        if other.core > version.core and (best is None or other.core > best[1].core):
            best = (name, other)
    return best


def scratch_repository(server: str, repository: str, env: dict[str, str]) -> Path:
    """An empty repository whose ``origin`` is the released one: no checkout needed to move tags."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        raise ActionFailure("invalid-input", f"GITHUB_REPOSITORY {repository!r} is not owner/name")
    scratch = Path(tempfile.mkdtemp(prefix="release-please-tags-", dir=os.environ.get("RUNNER_TEMP") or None))
    git("init", "-q", cwd=scratch, env=env, reason="fetch-failed")
    git("remote", "add", "origin", f"{server}/{repository}.git", cwd=scratch, env=env, reason="fetch-failed")
    return scratch


def plan_moves(tags: dict[str, str], names: dict[str, str], kinds: list[str], tag: str, sha: str,
               version: Version, prefix: str, lines: list[str]) -> list[str]:
    """Which floating tags to move: never backwards, never when already in place."""
    moves = []
    for kind in kinds:
        name = names[kind]
        higher = newest(tags, prefix, version, kind)
        if higher is not None:
            lines.append(f"- `{name}` not moved: {actionkit.md_escape(higher[0])} is a newer release")
            print(f"{name} not moved: {higher[0]} is newer than {tag}")
        elif tags.get(name) == sha:
            lines.append(f"- `{name}` already at {tag}")
            print(f"{name} already points at {tag}")
        else:
            moves.append(name)
    return moves


def move_tags() -> None:
    kinds = wanted_tags()
    actionkit.set_output("moved-tags", "")
    if not kinds:
        print("moving tags was not asked for")
        return
    tag, version_text = actionkit.env("RELEASE_TAG"), actionkit.env("RELEASE_VERSION")
    sha = actionkit.env("RELEASE_SHA")
    version = Version.parse(version_text)
    if version is None or not tag.endswith(version_text) or not SHA.fullmatch(sha):
        raise ActionFailure("invalid-output", f"cannot move tags for release {tag!r} ({version_text!r} at {sha!r})")
    prefix = tag[: len(tag) - len(version_text)]
    names = {"major": f"{prefix}{version.major}", "minor": f"{prefix}{version.major}.{version.minor}"}
    lines = ["", "#### Floating tags", ""]
    if inputs.boolean("draft", var="RELEASE_DRAFT"):
        # GitHub creates a draft release's tag only when the draft is published: there is nothing to
        # point the floating tags at yet, and creating the tag here would publish the version early.
        message = (f"{tag} is a draft release: GitHub creates its tag when the draft is published; "
                   f"{', '.join(names[k] for k in kinds)} not moved (move them after publishing)")
        actionkit.annotate("notice", message)
        actionkit.summary("\n".join([*lines, actionkit.md_escape(message) + "."]) + "\n")
        return
    if version.prerelease:
        message = f"{tag} is a prerelease: {', '.join(names[k] for k in kinds)} not moved"
        actionkit.annotate("notice", message)
        actionkit.summary("\n".join([*lines, actionkit.md_escape(message) + "."]) + "\n")
        return
    server, repository = links()
    env = git_env(server)
    scratch = scratch_repository(server, repository, env)
    try:
        tags = remote_tags(scratch, env)
        if tags.get(tag) != sha:
            where = f"points at {tags[tag]}" if tag in tags else f"is not in {repository}"
            raise ActionFailure("tag-mismatch", f"release tag {tag} {where}, not at the release commit {sha}")
        moves = plan_moves(tags, names, kinds, tag, sha, version, prefix, lines)
        if moves:
            git("fetch", "-q", "--no-tags", "--depth=1", "origin", f"+refs/tags/{tag}:refs/tags/{tag}", cwd=scratch,
                env=env, reason="fetch-failed")
            for name in moves:
                git("update-ref", f"refs/tags/{name}", sha, cwd=scratch, env=env, reason="push-failed")  # plain tag
            git("push", "--force", "origin", *[f"refs/tags/{name}" for name in moves], cwd=scratch, env=env,
                reason="push-failed")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for name in moves:
        before = f" (was {tags[name][:12]})" if name in tags else " (new)"
        lines.append(f"- `{name}` moved to {tag}{before}")
        print(f"moved {name} to {tag} at {sha}")
    actionkit.set_output("moved-tags", ",".join(moves))
    actionkit.summary("\n".join(lines) + "\n")


COMMANDS = {"normalise": normalise, "move-tags": move_tags}


def run() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        raise ActionFailure("invalid-input", f"usage: release.py {{{'|'.join(COMMANDS)}}}")
    COMMANDS[sys.argv[1]]()


if __name__ == "__main__":
    actionkit.main(run)
