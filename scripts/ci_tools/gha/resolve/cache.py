"""On-disk cache in front of any :class:`~ci_tools.gha.resolve.base.Resolver`.

Location: ``--cache-dir``, else ``$XDG_CACHE_HOME/ci-tools``, else ``~/.cache/ci-tools``; one
namespace per source of truth (API URL or git URL template), so GitHub Enterprise and github.com
never mix. ``--no-cache`` bypasses it. Every write is atomic (temporary file and rename); an
unreadable entry counts as a miss.

What is kept, and for how long:

- facts that cannot change are kept **forever**: a tag object's commit (``peel``), a commit being
  reachable from the repository (``contains`` when true), a file at a commit, repository ids, and
  the tags seen on a pinned commit (``tags_at``; so re-running ``pin`` over pinned files costs no
  request at all — ``verify --online`` is what re-checks that those tags have not moved since);
- facts that move are kept for ``ttl`` seconds (default one hour): a repository's tags and
  branches, its releases. ``refresh=True`` (``verify --online``) ignores them and re-fetches.

Image digests (``pin --images``) are cached the same way by :class:`CachingRegistry`: an image tag
moves like a git tag, so tag -> digest is kept for ``ttl`` seconds, under a namespace of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

from ci_tools.core.fsutil import atomic_write_bytes
from ci_tools.gha.resolve.base import Release, RepoIds, RepoRefs, Resolver, repo_key
from ci_tools.gha.uses import SHA_RE, is_ref_name

DEFAULT_TTL = 3600.0
VERSION = "v1"


class BadEntry(ValueError):
    """A cache entry that is valid JSON of the wrong shape."""


# The cache directory may come back from an Actions cache that a pull request's run wrote: what pin
# writes into a workflow from it (a commit after "@", a tag name in the comment) is held to the form
# git and GitHub give those, so an entry can never carry a line break, YAML or a comment into a file.
# (commits: gha.uses.SHA_RE; names: gha.uses.is_ref_name, git check-ref-format's rules).
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


def _sha_map(value, what: str) -> dict[str, str]:
    """``{ref name: commit SHA}``."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise BadEntry(f"{what} is not a mapping of names to strings")
    for name, sha in value.items():
        if not is_ref_name(name):
            raise BadEntry(f"{what}: {name!r} is not a ref name")
        if not SHA_RE.match(sha):
            raise BadEntry(f"{what}: {name!r} maps to {sha[:80]!r}, which is not a commit SHA")
    return dict(value)


def _refs_shape(value) -> RepoRefs:
    if not isinstance(value, dict):
        raise BadEntry("refs are not a mapping")
    default = value.get("default_branch")
    if default is not None and not (isinstance(default, str) and is_ref_name(default)):
        raise BadEntry("default_branch is not a ref name")
    return RepoRefs(_sha_map(value.get("tags", {}), "tags"), _sha_map(value.get("branches", {}), "branches"),
                    _sha_map(value.get("tag_objects", {}), "tag_objects"), default)


def _ref_names(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and is_ref_name(v) for v in value):
        raise BadEntry("not a list of ref names")
    return list(value)


_RELEASE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "tag": str, "published_at": (str, type(None)), "draft": bool, "prerelease": bool,
    "url": (str, type(None)), "immutable": (bool, type(None))}


def _releases_shape(value) -> list[Release]:
    if not isinstance(value, list):
        raise BadEntry("releases are not a list")
    out = []
    for item in value:
        if not isinstance(item, dict) or "tag" not in item or set(item) - set(_RELEASE_FIELDS) \
                or not all(isinstance(v, _RELEASE_FIELDS[k]) for k, v in item.items()):
            raise BadEntry("a release is not the mapping this version writes")
        if not is_ref_name(item["tag"]):
            raise BadEntry(f"a release's tag {item['tag'][:80]!r} is not a ref name")
        out.append(Release(**item))
    return out


def _warn(message: str) -> None:
    import sys

    from ci_tools.core.redact import redact

    sys.stderr.write(redact(f"ci-tools: warning: {message}") + "\n")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "ci-tools"


class _Store:
    """JSON entries under ``directory/v1/<hash of namespace>``, each stamped with the time it was written."""

    def __init__(self, directory: Path, namespace: str, ttl: float, refresh: bool) -> None:
        self.ttl = ttl
        self.refresh = refresh
        self.root = Path(directory) / VERSION / hashlib.sha256(namespace.encode()).hexdigest()[:16]
        self.hits = 0

    def _read(self, path: Path, ttl: float | None, shape=None):
        """The cached value at ``path`` (through ``shape``, which validates and converts it), or None when
        absent, expired (``ttl``; ``refresh`` and a TTL of 0 expire everything) or unreadable. An entry of
        the wrong shape is discarded with a warning that names it: the run goes on without it."""
        if ttl is not None and (self.refresh or ttl <= 0):
            return None
        try:
            entry = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        try:
            if not isinstance(entry, dict) or "value" not in entry:
                raise BadEntry("not a cache entry")
            at = entry.get("at")
            if not isinstance(at, (int, float)) or isinstance(at, bool):
                raise BadEntry("its time stamp is missing")
            if ttl is not None and time.time() - float(at) > ttl:
                return None
            value = entry["value"] if shape is None else shape(entry["value"])
        except (BadEntry, TypeError, ValueError, KeyError) as exc:
            _warn(f"discarded the cache entry {path}: {exc} (valid JSON of the wrong shape); it is fetched again")
            try:
                path.unlink()
            except OSError:
                pass
            return None
        self.hits += 1
        return value

    def _write(self, path: Path, value) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, json.dumps({"at": time.time(), "value": value}, sort_keys=True).encode())
        except OSError:
            pass  # a read-only cache directory only costs requests


def _peel_shape(value) -> str:
    if not isinstance(value, str) or not (value == "" or SHA_RE.match(value)):
        raise BadEntry("a peeled commit is not a commit SHA")  # "": the SHA is no tag object
    return value


def _file_shape(value) -> dict:
    if not isinstance(value, dict) or not (value.get("absent") is True or isinstance(value.get("text"), str)):
        raise BadEntry("a file entry holds neither text nor absent")
    return value


def _dict_list(value) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadEntry("not a list of mappings")
    return value


def _ids_shape(value) -> RepoIds:
    if not isinstance(value, dict) or not isinstance(value.get("repo_id"), int) \
            or not isinstance(value.get("owner_id"), (int, type(None))) or set(value) - {"repo_id", "owner_id"}:
        raise BadEntry("repository ids are not the mapping this version writes")
    return RepoIds(**value)


def _digest_shape(value) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("image"), str) \
            or not isinstance(value.get("digest"), str):
        raise BadEntry("a digest entry is not the mapping this version writes")
    if not _DIGEST.match(value["digest"]):
        raise BadEntry(f"{value['digest'][:80]!r} is not an image digest")
    return value


class CachingResolver(_Store, Resolver):
    def __init__(self, inner: Resolver, directory: Path, namespace: str, ttl: float = DEFAULT_TTL,
                 refresh: bool = False) -> None:
        super().__init__(directory, namespace, ttl, refresh)
        self.inner = inner
        self.name = inner.name

    # read-only here (the inner resolver counts); mypy cannot accept a property over the base's plain
    # attribute, which the other resolvers increment
    @property
    def requests(self) -> int:  # type: ignore[override]
        return self.inner.requests

    def _path(self, kind: str, repo: str, *extra: str) -> Path:
        owner, name = repo_key(repo).split("/", 1)
        tail = "-".join(extra)
        return self.root / kind / owner / (f"{name}@{tail}.json" if tail else f"{name}.json")

    # ---------------------------------------------------------------- resolver
    def refs(self, repo: str) -> RepoRefs:
        path = self._path("refs", repo)
        cached = self._read(path, self.ttl, _refs_shape)
        if cached is not None:
            return cached
        refs = self.inner.refs(repo)
        self._write(path, refs.to_json())
        return refs

    def tags_at(self, repo: str, sha: str) -> list[str]:
        """Tags on ``sha`` from the repository's refs (cached for ``ttl`` like them), recorded for
        :meth:`cached_tags_at`: what was learnt replaces what was known, an empty answer included."""
        tags = self.refs(repo).tags_at(sha)
        self.remember_tags_at(repo, sha, tags)
        return tags

    def remember_tags_at(self, repo: str, sha: str, tags: list[str]) -> None:
        """Record the tags just read from fresh refs on ``sha`` (replacing what the cache held)."""
        self._write(self._path("tags-at", repo, sha), list(tags))

    def cached_tags_at(self, repo: str, sha: str) -> list[str] | None:
        """The tags last seen on ``sha``, from the cache only (no request); None when unknown, when no tag
        was on it, and when cached refs may not be used at all (``refresh``, a TTL of 0)."""
        if self.refresh or self.ttl <= 0:
            return None
        cached = self._read(self._path("tags-at", repo, sha), None, _ref_names)
        return cached or None

    def peel(self, repo: str, sha: str) -> str | None:
        path = self._path("peel", repo, sha)
        cached = self._read(path, None, _peel_shape)
        if cached is not None:
            return cached or None
        commit = self.inner.peel(repo, sha)
        self._write(path, commit or "")
        return commit

    def contains(self, repo: str, sha: str, refs: RepoRefs) -> bool | None:
        path = self._path("contains", repo, sha)
        if self._read(path, None) is True:
            return True
        found = self.inner.contains(repo, sha, refs)
        if found:
            self._write(path, True)
        return found

    def releases(self, repo: str) -> list[Release]:
        path = self._path("releases", repo)
        cached = self._read(path, self.ttl, _releases_shape)
        if cached is not None:
            return cached
        found = self.inner.releases(repo)
        self._write(path, [r.__dict__ for r in found])
        return found

    def get_file(self, repo: str, path: str, sha: str) -> bytes | None:
        where = self._path("files", repo, sha, hashlib.sha256(path.encode()).hexdigest()[:16])
        cached = self._read(where, None, _file_shape)
        if cached is not None:
            return None if cached.get("absent") else cached["text"].encode("utf-8", "surrogateescape")
        body = self.inner.get_file(repo, path, sha)
        self._write(where, {"absent": True} if body is None
                    else {"text": body.decode("utf-8", "surrogateescape")})
        return body

    def advisories(self, ecosystem: str = "actions") -> list[dict]:
        path = self.root / "advisories" / f"{ecosystem}.json"
        cached = self._read(path, self.ttl, _dict_list)
        if cached is not None:
            return cached
        found = self.inner.advisories(ecosystem)
        self._write(path, found)
        return found

    def repo_id(self, repo: str) -> RepoIds | None:
        path = self._path("ids", repo)
        cached = self._read(path, None, _ids_shape)
        if cached is not None:
            return cached
        ids = self.inner.repo_id(repo)
        if ids is not None:
            self._write(path, ids.__dict__)
        return ids

    def close(self) -> None:
        self.inner.close()


class CachingRegistry(_Store):
    """Image tag -> digest in front of a :class:`~ci_tools.gha.resolve.oci.RegistryClient`, for ``ttl`` seconds.

    A warm ``pin --images`` makes no registry request at all; a reference that already names a digest
    never needed one. Missing images and refusals are not cached: they are worth asking again.
    """

    def __init__(self, inner, directory: Path, namespace: str, ttl: float = DEFAULT_TTL) -> None:
        super().__init__(directory, namespace, ttl, False)
        self.inner = inner

    @property
    def requests(self) -> int:
        return self.inner.requests

    def digest(self, image: str) -> str:
        from ci_tools.gha.resolve.oci import parse_image

        ref = parse_image(image)
        if ref.digest:
            return ref.digest
        key = f"{ref.host}/{ref.repository}:{ref.reference}"
        path = self.root / "digests" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")
        cached = self._read(path, self.ttl, _digest_shape)
        if cached is not None and cached.get("image") == key:
            return cached["digest"]
        found = self.inner.digest(image)
        self._write(path, {"image": key, "digest": found})
        return found
