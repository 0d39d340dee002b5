"""Where refs, commits, releases and files come from: the GitHub API, ``git ls-remote``, a cache.

Commands build one resolver with :func:`add_arguments` and :func:`from_args`; see
:mod:`ci_tools.resolve.base` for the interface.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ci_tools.resolve.base import (
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
           "tag_preference", "add_arguments", "from_args", "build"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("resolution")
    group.add_argument("--via", choices=("api", "git"), default="api",
                       help="GitHub REST API (GITHUB_API_URL, token from GITHUB_TOKEN or GH_TOKEN) or git ls-remote")
    group.add_argument("--git-url-template", metavar="URL",
                       help="with --via git: the URL of each repository, with {owner} and {repo} "
                            "(default: $GITHUB_SERVER_URL/{owner}/{repo}.git)")
    group.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="cache directory (default: $XDG_CACHE_HOME/ci-tools or ~/.cache/ci-tools)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    group.add_argument("--cache-ttl", type=float, default=None, metavar="SECONDS",
                       help="how long tags, branches and releases stay cached (default: 3600); "
                            "facts about a commit are kept for good")
    group.add_argument("--jobs", type=int, default=16, metavar="N",
                       help="repositories resolved at once (default: 16)")


def build(via: str = "api", *, git_url_template: str | None = None, cache_dir: Path | None = None,
          no_cache: bool = False, ttl: float | None = None, refresh: bool = False) -> Resolver:
    """A resolver, cached unless ``no_cache``. ``refresh`` ignores cached tags, branches and releases."""
    import os

    from ci_tools.resolve.cache import DEFAULT_TTL, CachingResolver, default_cache_dir

    directory = cache_dir or default_cache_dir()
    if via == "git":
        from ci_tools.resolve.git import GitResolver

        inner: Resolver = GitResolver(git_url_template, None if no_cache else directory / "git-work")
        namespace = "git " + inner.template  # type: ignore[attr-defined]
    else:
        from ci_tools.resolve.github import GitHubResolver, token_from_env

        token = token_from_env()
        inner = GitHubResolver(token=token)
        # a token can see private repositories another run could not: keep their caches apart
        namespace = "api " + inner.api + (" token" if token else "")  # type: ignore[attr-defined]
    if no_cache:
        return inner
    if ttl is None:
        env = os.environ.get("CI_TOOLS_CACHE_TTL")
        ttl = float(env) if env else DEFAULT_TTL
    return CachingResolver(inner, directory, namespace, ttl, refresh)


def from_args(args: argparse.Namespace, *, refresh: bool = False) -> Resolver:
    from ci_tools.cli import UsageError

    if args.git_url_template and args.via != "git":
        raise UsageError("--git-url-template needs --via git")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    try:
        return build(args.via, git_url_template=args.git_url_template, cache_dir=args.cache_dir,
                     no_cache=args.no_cache, ttl=args.cache_ttl, refresh=refresh)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
