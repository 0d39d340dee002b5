"""GitHub's workflow dependency lockfile, ``.github/workflows/actions.lock`` (read-only).

Its shape, as ``gh actions-lock`` writes it::

    version: 'v0.0.2'
    workflows:
        '.github/workflows/ci.yml':
            - 'actions/checkout@v6.0.2'
    dependencies:
        'actions/checkout@v6.0.2':
            ref: 'v6.0.2'
            commit: 'sha1-de0fac2e4500dabe0009e67214ff5f5447ce83dd'   # or sha256-<64 hex>
            owner_id: 44036562
            repo_id: 197814629
            uses: ['owner/repo@ref', ...]                              # transitive, optional

A ``uses:`` whose ``action@ref`` is a dependency key is locked: GitHub runs the locked commit, so
verify treats it as pinned. Keys are compared case-insensitively, as GitHub names are.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ci_tools.core.findings import Finding, Location, Severity
from ci_tools.gha.source import KIND_OTHER, load

_COMMIT = re.compile(r"(?P<algo>sha1|sha256)-(?P<hex>[0-9a-f]+)\Z")


@dataclass
class LockEntry:
    key: str
    ref: str
    commit: str
    owner_id: int | None
    repo_id: int | None

    @property
    def repository(self) -> str:
        return "/".join(self.key.split("@", 1)[0].split("/")[:2])


@dataclass
class Lock:
    display: str
    root: Path
    workflows: dict[str, set[str]] = field(default_factory=dict)
    deps: dict[str, LockEntry] = field(default_factory=dict)

    def entry(self, doc, occ) -> LockEntry | None:
        for key in (f"{occ.ref.action}@{occ.ref.ref}", f"{occ.ref.repository}@{occ.ref.ref}"):
            found = self.deps.get(key.lower())
            if found is not None:
                return found
        return None

    def _workflow_key(self, doc) -> str | None:
        try:
            return Path(doc.path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None

    def check(self, doc, occ, locked: LockEntry | None) -> list[Finding]:
        out = []
        ref = occ.ref
        if locked is not None and ref.is_sha and locked.commit != ref.ref:
            out.append(doc.finding("lockfile-mismatch", f'"{occ.node.value}" is locked to {locked.commit[:12]} in '
                                   f"{self.display}; re-run `gh actions-lock` or fix the pin", occ.node))
        if ref.is_sha and locked is None:
            token = occ.version_token()
            other = self.deps.get(f"{ref.repository}@{token[0]}".lower()) if token else None
            if other is not None and other.commit != ref.ref:
                out.append(doc.finding("lockfile-mismatch", f'"{ref.repository}@{token[0]}" is locked to '
                                       f"{other.commit[:12]} in {self.display}, but pinned here to {ref.ref[:12]}",
                                       occ.node))
        wf = self._workflow_key(doc)
        listed = self.workflows.get(wf) if wf else None
        if listed is not None and locked is None and not ref.is_sha:
            out.append(doc.finding("lockfile-mismatch", f'"{occ.node.value}" is missing from {self.display}, which '
                                   "locks this workflow; run `gh actions-lock`", occ.node))
        return out

    def check_ids(self, resolver, occurrences, jobs: int = 8) -> list[Finding]:
        """Online: the repository behind each locked name still has the locked id (no re-created name)."""
        wanted: dict[str, list] = {}
        for occ in occurrences:
            locked = self.entry(occ.doc, occ)
            if locked is not None and locked.repo_id is not None:
                wanted.setdefault(occ.ref.repository.lower(), []).append((occ, locked))
        ids = {}
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(wanted) or 1))) as pool:
            for repo, found in zip(wanted, pool.map(resolver.repo_id, list(wanted)), strict=False):
                ids[repo] = found
        out = []
        for repo, items in wanted.items():
            now = ids[repo]
            for occ, locked in items:
                if now is not None and now.repo_id != locked.repo_id:
                    out.append(occ.doc.finding(
                        "lockfile-mismatch", f'"{occ.ref.repository}" is now repository id {now.repo_id}, but '
                                             f"{self.display} locked id {locked.repo_id}: the name belongs to another "
                                             "repository (deleted and re-created, or renamed)", occ.node))
        return out


def read(path: Path, root: Path) -> tuple[Lock | None, list[Finding]]:
    from ci_tools.gha.source import display_path

    doc = load(path, display=display_path(path), kind=KIND_OTHER)
    if doc.findings:
        return None, list(doc.findings)
    data = doc.data
    problems: list[Finding] = []
    lock = Lock(doc.display, root)
    if not isinstance(data, dict):
        return None, [Finding("lockfile-mismatch", Severity.ERROR, "the lockfile is not a mapping",
                              Location(doc.display))]
    for wf, items in (data.get("workflows") or {}).items():
        lock.workflows[str(wf)] = {str(i).lower() for i in (items or [])}
    for key, value in (data.get("dependencies") or {}).items():
        if not isinstance(value, dict):
            continue
        m = _COMMIT.match(str(value.get("commit", "")))
        if not m or len(m["hex"]) != (40 if m["algo"] == "sha1" else 64):
            problems.append(Finding("lockfile-mismatch", Severity.ERROR,
                                    f'"{key}" has no valid commit (sha1-<40 hex> or sha256-<64 hex>) in the lockfile',
                                    Location(doc.display)))
            continue
        lock.deps[str(key).lower()] = LockEntry(str(key), str(value.get("ref", "")), m["hex"],
                                                value.get("owner_id"), value.get("repo_id"))
    return lock, problems
