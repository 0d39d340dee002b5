"""Where refs, commits, releases and files come from: the GitHub API, ``git ls-remote``, a cache.

Commands define the options (:func:`ci_tools.commands._pin.add_resolution_arguments`), turn them
into :class:`ResolveSettings` (:func:`ci_tools.commands._pin.resolve_settings`) and build one resolver
with :func:`from_settings`; see :mod:`ci_tools.gha.resolve.base` for the interface. Nothing here reads
a command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ci_tools.gha.resolve.base import (
    NotFound,
    Release,
    RepoIds,
    RepoRefs,
    Resolution,
    ResolveError,
    Resolver,
    resolve_ref,
    tag_preference,
)

__all__ = ["NotFound", "Release", "RepoIds", "RepoRefs", "Resolution", "ResolveError", "Resolver", "resolve_ref",
           "tag_preference", "ResolveSettings", "validate", "from_settings", "build", "registry_from",
           "build_registry"]


@dataclass(frozen=True)
class ResolveSettings:
    """Where refs and images come from (the resolution options of the commands, settled)."""

    via: str = "api"
    git_url_template: str | None = None
    cache_dir: Path | None = None
    no_cache: bool = False
    cache_ttl: float | None = None
    jobs: int = 16


def build(via: str = "api", *, git_url_template: str | None = None, cache_dir: Path | None = None,
          no_cache: bool = False, ttl: float | None = None, refresh: bool = False) -> Resolver:
    """A resolver, cached unless ``no_cache``. ``refresh`` ignores cached tags, branches and releases."""
    from ci_tools.gha.resolve.cache import CachingResolver, default_cache_dir

    directory = cache_dir or default_cache_dir()
    if via == "git":
        from ci_tools.gha.resolve.git import GitResolver

        git = GitResolver(git_url_template, None if no_cache else directory / "git-work")
        inner: Resolver = git
        namespace = "git " + git.template
    else:
        from ci_tools.gha.resolve.github import GitHubResolver, token_from_env

        token = token_from_env()
        api = GitHubResolver(token=token)
        inner = api
        # a token can see private repositories another run could not: keep their caches apart
        namespace = "api " + api.api + (" token" if token else "")
    if no_cache:
        return inner
    return CachingResolver(inner, directory, namespace, _ttl(ttl), refresh)


def validate(settings: ResolveSettings) -> None:
    """Usage errors of the resolution options (raised before any file is read)."""
    from ci_tools.errors import UsageError

    if settings.git_url_template and settings.via != "git":
        raise UsageError("--git-url-template needs --via git")
    if settings.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if settings.cache_ttl is not None and settings.cache_ttl < 0:
        raise UsageError("--cache-ttl must not be negative")


def from_settings(settings: ResolveSettings, *, refresh: bool = False) -> Resolver:
    from ci_tools.errors import UsageError

    validate(settings)
    try:
        return build(settings.via, git_url_template=settings.git_url_template, cache_dir=settings.cache_dir,
                     no_cache=settings.no_cache, ttl=settings.cache_ttl, refresh=refresh)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def registry_from(settings: ResolveSettings):
    """The OCI registry client for ``--images``, behind the digest cache unless ``--no-cache``."""
    return build_registry(cache_dir=settings.cache_dir, no_cache=settings.no_cache, ttl=settings.cache_ttl)


def build_registry(*, cache_dir: Path | None = None, no_cache: bool = False, ttl: float | None = None):
    """A :class:`~ci_tools.gha.resolve.oci.RegistryClient`, wrapped in a
    :class:`~ci_tools.gha.resolve.cache.CachingRegistry` (tag -> digest for ``ttl`` seconds) unless ``no_cache``."""
    from ci_tools.gha.resolve.cache import CachingRegistry, default_cache_dir
    from ci_tools.gha.resolve.oci import RegistryClient

    client = RegistryClient()
    if no_cache:
        return client
    # credentials can see private images another run could not: keep their caches apart
    namespace = "oci" + (" credentials" if client.username else "")
    return CachingRegistry(client, cache_dir or default_cache_dir(), namespace, _ttl(ttl))


def _ttl(ttl: float | None) -> float:
    import os

    from ci_tools.gha.resolve.cache import DEFAULT_TTL

    if ttl is not None:
        return ttl
    env = os.environ.get("CI_TOOLS_CACHE_TTL")
    return float(env) if env else DEFAULT_TTL
