"""Checking the Conventional Commit messages of a pull request: its title, a message file, a range.

What ``ci-tools commits`` does between parsing its arguments and emitting the findings:
:class:`Messages` checks each message with :func:`ci_tools.hygiene.conventional.check_message` and
keeps its findings and its text (so that the reporters can underline the line);
:func:`check_range` reads ``BASE..HEAD`` with git (merge commits skipped and counted) and computes
the bump release-please would propose; :func:`rules_from` and :func:`bump_option` read the
configuration (``[tool.ci-tools.commits]``, then release-please's own files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_tools.core.findings import Finding, Location
from ci_tools.core.git import GitError, git, verify_revision
from ci_tools.core.output import TextSource
from ci_tools.hygiene import conventional

CHECK_ID = "commit-message"


def rules_from(options: dict[str, Any]) -> conventional.Rules:
    """The rules of ``[tool.ci-tools.commits]`` (``types``, ``scopes``, ``require-scope``, ``max-header-length``)."""
    return conventional.Rules(
        types=tuple(options.get("types") or conventional.DEFAULT_TYPES),
        scopes=tuple(options["scopes"]) if options.get("scopes") else None,
        require_scope=bool(options.get("require-scope", False)),
        max_header_length=int(options.get("max-header-length", conventional.DEFAULT_MAX_HEADER_LENGTH)),
    )


@dataclass
class Messages:
    """The messages checked so far: their findings, and their texts as sources for the reporters."""

    rules: conventional.Rules
    findings: list[Finding] = field(default_factory=list)
    sources: list[TextSource] = field(default_factory=list)

    def add(self, display: str, text: str, comment_char: str | None, pseudo: bool = True,
            allow_merge: bool = True) -> conventional.Message:
        msg, problems = conventional.check_message(text, self.rules, comment_char, allow_merge)
        self.sources.append(TextSource(display, text, pseudo))
        for p in problems:
            self.findings.append(Finding(CHECK_ID, p.severity, p.message,
                                         Location(display, p.line, p.col, p.line, p.end_col)))
        return msg


@dataclass
class RangeResult:
    bump: conventional.Bump
    commits: int
    merges: int

    def text(self) -> str:
        """``semver bump: LEVEL (reason; N commits checked, ...)``, for people."""
        bump, commits, merges = self.bump, self.commits, self.merges
        parts = [f"{commits} commit{'s' if commits != 1 else ''} checked"]
        if bump.ignored:
            parts.append(f"{bump.ignored} not conventional (release-please ignores "
                         f"{'it' if bump.ignored == 1 else 'them'})")
        if merges:
            parts.append(f"{merges} merge commit{'s' if merges != 1 else ''} skipped")
        text = f"semver bump: {bump.level} ({bump.reason}; {', '.join(parts)})"
        if bump.next:
            text += f"; next version {bump.current or '?'} -> {bump.next}"
        return text

    def as_dict(self) -> dict[str, Any]:
        bump = self.bump
        return {"level": bump.level, "reason": bump.reason, "commits": self.commits, "conventional": bump.counted,
                "ignored": bump.ignored, "merges_skipped": self.merges, "current_version": bump.current,
                "next_version": bump.next, "release_as": bump.release_as}


def check_range(root: Path, base: str, head: str, messages: Messages, *, current_version: str | None,
                bump_minor_pre_major: bool, bump_patch_for_minor_pre_major: bool) -> RangeResult:
    """Check every commit of ``base..head`` but merges (oldest first) and compute the bump; a git
    failure (an unknown revision, a shallow clone) raises :class:`~ci_tools.core.git.GitError`."""
    verify_revision(base, root)
    verify_revision(head, root)
    if not git(["merge-base", base, head], root, check=False).strip():
        raise GitError(f'"{base}" and "{head}" share no history in this clone, so the range would '
                       "take in commits of the base; fetch the whole history (actions/checkout "
                       "with fetch-depth: 0)")
    spec = f"{base}..{head}"
    raw = git(["log", "--no-merges", "-z", "--format=%H%n%B", spec, "--"], root)
    merges = int(git(["rev-list", "--count", "--merges", spec, "--"], root).decode().strip() or 0)
    commits = []
    for record in raw.decode("utf-8", "replace").split("\0"):
        if not record.strip():
            continue
        sha, _, body = record.partition("\n")
        commits.append((sha, body))
    checked = [messages.add(sha[:12], body, None) for sha, body in reversed(commits)]  # oldest first
    bump = conventional.compute_bump(list(reversed(checked)), current_version or manifest_version(root),
                                     bump_minor_pre_major=bump_minor_pre_major,
                                     bump_patch_for_minor_pre_major=bump_patch_for_minor_pre_major)
    return RangeResult(bump, len(commits), merges)


def split_range(text: str) -> tuple[str, str]:
    """``BASE..HEAD`` (or ``BASE``, meaning ``BASE..HEAD``); a bad range raises ValueError with what to write."""
    if "..." in text:
        raise ValueError(f'"{text}": use BASE..HEAD (two dots): the commits of HEAD that BASE does not have')
    base, sep, head = text.partition("..")
    if not base or (sep and not head):
        raise ValueError(f'"{text}" is not a range; write BASE..HEAD, e.g. origin/main..HEAD')
    return base, head or "HEAD"


def comment_char(root: Path) -> str:
    """``core.commentChar`` of the repository (``#`` when unset or ``auto``)."""
    try:
        value = git(["config", "--get", "core.commentChar"], root, check=False).decode().strip()
    except GitError:
        return "#"
    return value if value and value != "auto" else "#"


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def manifest_version(root: Path) -> str | None:
    """``"."`` of ``.release-please-manifest.json``, the version the bump starts from."""
    data = _read_json(root / ".release-please-manifest.json")
    value = data.get(".") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def bump_option(cli_value: bool | None, options: dict[str, Any], root: Path, key: str) -> bool:
    """CLI flag, else ``[tool.ci-tools.commits]``, else release-please-config.json (top level or ".")."""
    if cli_value is not None:
        return cli_value
    if key in options:
        return bool(options[key])
    data = _read_json(root / "release-please-config.json")
    if isinstance(data, dict):
        package = (data.get("packages") or {}).get(".") or {}
        if isinstance(package, dict) and key in package:
            return bool(package[key])
        if key in data:
            return bool(data[key])
    return False


def summary_texts(*, title: bool, message_file: bool, commits: int | None) -> tuple[str, str]:
    """The job summary's heading and its line when every message checked follows the convention."""
    checked = " and ".join(part for part in (
        "the title" if title else "",
        f"{commits} commit{'s' if commits != 1 else ''}" if commits is not None else "",
        "the message" if message_file else "") if part)
    heading = ("Pull request title" if commits is None and not message_file
               else "Commit message" if commits is None and not title else "Commit messages")
    verb = "follows" if " and " not in checked and checked.startswith(("the ", "1 ")) else "follow"
    return heading, f"{checked} {verb} Conventional Commits"
