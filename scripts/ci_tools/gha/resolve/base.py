"""The ``Resolver`` interface: everything ``pin``, ``verify``, ``update`` and ``report`` ask of a
code host, behind one small surface so tests and offline runs can swap the source of truth.

Stable interface (other commands build on it; keep signatures):

- :meth:`Resolver.refs` ``(repo) -> RepoRefs``: every tag (peeled to its commit) and branch of
  ``owner/repo``, fetched once per repository however many files use it.
- :meth:`Resolver.peel` ``(repo, sha) -> str | None``: the commit a *tag object* SHA points to
  (following tag-of-tag chains), ``None`` when ``sha`` is not a tag object.
- :meth:`Resolver.contains` ``(repo, sha, refs) -> bool | None``: whether the commit is reachable
  from some branch or tag of the repository (``None``: the commit does not exist at all). A commit
  that exists but is on no ref is an impostor: GitHub serves a fork's commits under its parent's name.
- :meth:`Resolver.releases` ``(repo) -> list[Release]``: every release, all pages, drafts included
  (callers filter with :attr:`Release.stable`).
- :meth:`Resolver.get_file` ``(repo, path, sha) -> bytes | None``: a file at a commit (``None`` if
  absent), e.g. a composite action's ``action.yml`` for transitive audits.
- :meth:`Resolver.repo_id` ``(repo) -> RepoIds | None``: numeric repository and owner ids
  (what GitHub's ``actions.lock`` records).
- :meth:`Resolver.advisories` ``(ecosystem) -> list[dict]``: GitHub's reviewed advisories for an
  ecosystem (``actions``), all pages; ``known-compromised`` reads them with ``--online``.

Errors: :class:`NotFound` for a repository or object that is missing (or private without a token),
a per-reference problem that becomes a finding; :class:`ResolveError` for anything that prevents
resolution (network, API failure after retries), which is fatal: nothing is written.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from ci_tools.gha.uses import SEMVER_RE, semver_key


class ResolveError(Exception):
    """The source of truth could not answer (network, server errors after retries): fatal."""


class NotFound(Exception):
    """The repository, ref or object does not exist, or is private and no token was given."""


@dataclass
class RepoRefs:
    """Tags (peeled to commits) and branches of one repository."""

    tags: dict[str, str] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tag_objects: dict[str, str] = field(default_factory=dict)  # annotated tag object sha -> commit (when known)
    default_branch: str | None = None

    def tags_at(self, sha: str) -> list[str]:
        """Tags whose commit is ``sha``, most specific first (see :func:`best_tag`)."""
        return sorted((t for t, c in self.tags.items() if c == sha), key=tag_preference, reverse=True)

    def best_tag(self, sha: str) -> str | None:
        found = self.tags_at(sha)
        return found[0] if found else None

    def to_json(self) -> dict:
        return {"tags": self.tags, "branches": self.branches, "tag_objects": self.tag_objects,
                "default_branch": self.default_branch}

    @classmethod
    def from_json(cls, data: dict) -> RepoRefs:
        return cls(dict(data.get("tags", {})), dict(data.get("branches", {})), dict(data.get("tag_objects", {})),
                   data.get("default_branch"))


def tag_preference(tag: str) -> tuple:
    """Most specific first: full semver releases, then partial (``v4.2``, ``v4``), then other names.

    Among equally specific names, a ``v`` prefix (the usual action convention) and then the higher
    version win; non-version names sort last, alphabetically reversed for determinism.
    """
    key = semver_key(tag)
    if key is None:
        return (0, 0, 0, (), tag)
    major, minor, patch, stable, specificity = key
    return (1, specificity, stable, (major, minor, patch), 1 if tag.startswith("v") else 0, tag)


@dataclass(frozen=True)
class Release:
    tag: str
    published_at: str | None  # ISO 8601, server-side
    draft: bool = False
    prerelease: bool = False
    url: str | None = None
    immutable: bool | None = None  # GitHub's immutable releases: the tag cannot move; None when not said

    @property
    def stable(self) -> bool:
        if self.draft or self.prerelease:
            return False
        m = SEMVER_RE.match(self.tag)
        return m is not None and not m["pre"]


@dataclass(frozen=True)
class RepoIds:
    repo_id: int
    owner_id: int | None = None


# ------------------------------------------------------------------ ref resolution
@dataclass(frozen=True)
class Resolution:
    """What a ref names in a repository: ``kind`` is tag, branch, sha, tag-object, ambiguous or missing."""

    kind: str
    commit: str | None = None
    name: str | None = None  # the tag or branch name, for comments


def resolve_ref(refs: RepoRefs, ref: str) -> Resolution:
    """Resolve a ``uses:`` ref against a repository's refs (no network)."""
    in_tags, in_branches = ref in refs.tags, ref in refs.branches
    if in_tags and in_branches:
        return Resolution("ambiguous", refs.tags[ref], ref)
    if in_tags:
        return Resolution("tag", refs.tags[ref], ref)
    if in_branches:
        return Resolution("branch", refs.branches[ref], ref)
    if ref in refs.tag_objects:
        return Resolution("tag-object", refs.tag_objects[ref], ref)
    return Resolution("missing")


class Resolver(abc.ABC):
    """The source of truth for refs, commits, releases and files of ``owner/repo`` repositories.

    Implementations must be safe to call from several threads at once (one repository per thread).
    ``requests`` counts the requests made (HTTP requests or git processes), for benchmarks and tests.
    """

    name = "resolver"
    requests: int = 0

    @abc.abstractmethod
    def refs(self, repo: str) -> RepoRefs: ...

    def peel(self, repo: str, sha: str) -> str | None:
        return None

    @abc.abstractmethod
    def contains(self, repo: str, sha: str, refs: RepoRefs) -> bool | None: ...

    def releases(self, repo: str) -> list[Release]:
        """Default for hosts without a releases API: every semver tag as a release with no date."""
        return [Release(tag, None) for tag in self.refs(repo).tags if SEMVER_RE.match(tag)]

    def get_file(self, repo: str, path: str, sha: str) -> bytes | None:
        raise ResolveError(f"{self.name} cannot read files of {repo}")

    def repo_id(self, repo: str) -> RepoIds | None:
        return None

    def advisories(self, ecosystem: str = "actions") -> list[dict]:
        """Reviewed advisories of GitHub's advisory database for ``ecosystem`` (``GET /advisories``), as
        the API returns them; hosts without that database have none."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook, most resolvers hold nothing
        """Release what the resolver holds (temporary directories)."""

    def tags_at(self, repo: str, sha: str) -> list[str]:
        """Tags on commit ``sha``, most specific first (the cache keeps this forever once seen)."""
        return self.refs(repo).tags_at(sha)

    # convenience: used by the pin engine and by report
    def resolve(self, repo: str, ref: str) -> Resolution:
        return resolve_ref(self.refs(repo), ref)


def repo_key(repo: str) -> str:
    """Repository names are case-insensitive on GitHub: one key per repository."""
    return repo.lower()
