"""Action versions and commits known to be compromised: the data file and GitHub's advisory database.

The ``known-compromised`` check of ``lint`` reports them, and so do ``verify --online`` and ``report``;
the knowledge lives here, beside the other facts about GitHub Actions, so that none of those domains
imports another for it.

The list is ``ci_tools/gha/data/known-compromised.json``: one entry per affected repository, with its
advisory (GHSA and CVE), a public source, the affected versions in the range syntax of GitHub's
advisory database (``<= 45.0.7``, ``< 1.29.2``, ``= 1``), affected tags, and the malicious commits
when an advisory names them in full.

A ``uses:`` matches an entry when its repository is the entry's (case-insensitive; subpath actions
count) and either its commit is one of the entry's SHAs, or the version it names is affected: the
ref itself when it is a tag (``@v45``), else the version comment after a SHA (``# v45.0.0``).
Offline; ``verify --online`` and ``report --online`` add GitHub's advisory database for the
``actions`` ecosystem through :func:`advisories_from_api` and :func:`findings`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, iter_uses
from ci_tools.gha.uses import REMOTE, SEMVER_RE, UsesRef, comment_version, parse_uses

ID = "known-compromised"  # the id of the findings (the check of lint/checks/known_compromised.py)
SEVERITY = Severity.ERROR

DATA = "data/known-compromised.json"
_CONSTRAINT = re.compile(r"\s*(<=|>=|<|>|=)\s*v?([0-9][0-9A-Za-z.+-]*)\s*\Z")


@dataclass(frozen=True)
class Advisory:
    """One affected repository of one advisory."""

    ghsa: str
    cve: str | None
    source: str
    repository: str
    summary: str
    vulnerable_version_range: str | None = None
    first_patched_version: str | None = None
    tags: tuple[str, ...] = ()
    shas: tuple[str, ...] = ()
    origin: str = "data"  # "data" (this repository's file) or "github" (the advisory database)

    @property
    def ids(self) -> str:
        return self.ghsa + (f", {self.cve}" if self.cve else "")

    def affects_version(self, version: str) -> bool:
        """Whether a tag or version comment (``v45``, ``45.0.7``, ``v1``) is affected."""
        if version in self.tags:
            return True
        if not self.vulnerable_version_range:
            return False
        key = _version_key(version)
        if key is None:
            return False
        constraints = [c for c in self.vulnerable_version_range.split(",") if c.strip()]
        if not constraints:
            return False
        for constraint in constraints:
            m = _CONSTRAINT.match(constraint)
            if not m:
                return False  # a range this reader does not understand matches nothing rather than everything
            op, bound = m.group(1), _version_key(m.group(2))
            if bound is None:
                return False
            if op == "=":
                # "= 1" names the moving major tag v1: v1 and v1.x.y releases both match it
                width = len(m.group(2).split("."))
                if key[:width] != bound[:width]:
                    return False
            elif not {"<": key < bound, "<=": key <= bound, ">": key > bound, ">=": key >= bound}[op]:
                return False
        return True


def _version_key(version: str) -> tuple[int, int, int] | None:
    m = SEMVER_RE.match(version.strip())
    if not m:
        return None
    return int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0)


def _from_json(item: dict, origin: str) -> Advisory:
    return Advisory(
        ghsa=item["ghsa"], cve=item.get("cve"), source=item["source"], repository=item["repository"],
        summary=item.get("summary", ""), vulnerable_version_range=item.get("vulnerable_version_range"),
        first_patched_version=item.get("first_patched_version"), tags=tuple(item.get("tags", ())),
        shas=tuple(s.lower() for s in item.get("shas", ())), origin=origin)


@lru_cache(maxsize=1)
def load() -> tuple[Advisory, ...]:
    """The entries of this repository's data file."""
    text = resources.files("ci_tools.gha").joinpath(DATA).read_text("utf-8")
    return tuple(_from_json(item, "data") for item in json.loads(text)["entries"])


def advisories_from_api(items: Iterable[dict]) -> list[Advisory]:
    """Entries from GitHub's global advisory API (``GET /advisories?ecosystem=actions``).

    Only advisories that say the code was malicious count: a CWE-506 (embedded malicious code)
    classification, or ``type: malware``. Ordinary vulnerabilities (script injection in an action's
    own code) are not compromises; GitHub's Dependabot reports those.
    """
    out: list[Advisory] = []
    for item in items:
        if not isinstance(item, dict) or item.get("withdrawn_at"):
            continue
        cwes = {c.get("cwe_id") for c in item.get("cwes") or [] if isinstance(c, dict)}
        if "CWE-506" not in cwes and item.get("type") != "malware":
            continue
        for vuln in item.get("vulnerabilities") or []:
            package = (vuln or {}).get("package") or {}
            if package.get("ecosystem") != "actions" or "/" not in (package.get("name") or ""):
                continue
            patched = vuln.get("first_patched_version")
            if isinstance(patched, dict):
                patched = patched.get("identifier")
            out.append(Advisory(
                ghsa=item.get("ghsa_id", "?"), cve=item.get("cve_id"),
                source=item.get("html_url") or f"https://github.com/advisories/{item.get('ghsa_id', '')}",
                repository=package["name"], summary=item.get("summary", ""),
                vulnerable_version_range=vuln.get("vulnerable_version_range"), first_patched_version=patched,
                origin="github"))
    return out


@dataclass
class Index:
    """Advisories by lower-cased repository."""

    by_repo: dict[str, list[Advisory]] = field(default_factory=dict)

    @classmethod
    def of(cls, advisories: Iterable[Advisory]) -> Index:
        index = cls()
        for adv in advisories:
            index.by_repo.setdefault(adv.repository.lower(), []).append(adv)
        return index


@lru_cache(maxsize=1)
def _default_index() -> Index:
    return Index.of(load())


def match(ref: UsesRef, version: str | None, index: Index | None = None) -> list[tuple[Advisory, str]]:
    """``(advisory, reason)`` for each entry a remote reference matches; reason is "sha" or "version"."""
    index = index or _default_index()
    found: list[tuple[Advisory, str]] = []
    for adv in index.by_repo.get(ref.repository.lower(), ()):
        if ref.is_sha and ref.ref.lower() in adv.shas:
            found.append((adv, "sha"))
        elif version and adv.affects_version(version):
            found.append((adv, "version"))
    return found


def message(ref: UsesRef, version: str | None, adv: Advisory, reason: str) -> str:
    where = f"{ref.action}@{ref.ref[:12] if ref.is_sha else ref.ref}"
    if reason == "sha":
        what = f'"{where}" is a commit known to be compromised'
    else:
        what = f'"{where}" names version "{version}", known to be compromised'
    fix = (f'; move to version {adv.first_patched_version} or later, pinned to its commit'
           if adv.first_patched_version else "; move to a release published after the incident, pinned to its commit")
    return f"{what} ({adv.ids}: {adv.summary}; {adv.source}){fix}"


def findings(doc: Document, index: Index | None = None) -> Iterator[Finding]:
    if doc.root is None:
        return
    for site in iter_uses(doc):
        ref = parse_uses(site.value)
        if ref.kind != REMOTE:
            continue
        version = comment_version(doc.comment_after(site.node)) if ref.is_sha else ref.ref
        seen: set[str] = set()
        for adv, reason in match(ref, version, index):
            if adv.ghsa in seen:
                continue
            seen.add(adv.ghsa)
            yield doc.finding(ID, message(ref, version, adv, reason), site.node, SEVERITY)


def online_findings(docs: Iterable[Document], resolver, skipped: list[str] | None = None) -> list[Finding]:
    """Findings from GitHub's advisory database (``resolver.advisories("actions")``) for advisories
    this repository's data file does not already hold (those ``check`` reports offline).

    The database is optional: a server without it (GitHub Enterprise Server without GitHub Connect
    answers 404) yields no finding, and a sentence saying what was skipped goes to ``skipped``; a
    failure to answer (ResolveError) stays fatal."""
    from ci_tools.gha.resolve.base import NotFound

    known = {(a.ghsa, a.repository.lower()) for a in load()}
    try:
        items = resolver.advisories("actions")
    except NotFound as exc:
        if skipped is not None:
            skipped.append(f"GitHub's advisory database is not available ({exc}: GitHub Enterprise Server "
                           "without GitHub Connect has none), so the advisory check of known-compromised was "
                           "skipped; this repository's own list of compromised actions was still applied")
        return []
    extra = [a for a in advisories_from_api(items) if (a.ghsa, a.repository.lower()) not in known]
    if not extra:
        return []
    index = Index.of(extra)
    return [f for doc in docs for f in findings(doc, index)]
