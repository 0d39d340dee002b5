"""What ``pin``, ``update`` and ``verify`` share: reading files and settings, rendering findings."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

FIXING_EXIT = ("exit status: 0 when nothing needed changing and no finding reached --fail-level; 1 when files were "
               "changed ({dry}: would be) or findings were reported; 2 usage error; 3 fatal error (then no file "
               "is changed); 130 interrupted")


def add_file_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_repository_arguments

    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or directories (default: this repository's workflows, actions and templates)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip paths matching GLOB (repeatable)")
    add_repository_arguments(parser)


def add_resolution_arguments(parser: argparse.ArgumentParser) -> None:
    """The resolution options. Unset options are ``None`` until the command settles them from
    ``[tool.ci-tools.pin]`` (:func:`settle`); the defaults below apply last."""
    group = parser.add_argument_group("resolution")
    group.add_argument("--via", choices=("api", "git"), default=None,
                       help="GitHub REST API (GITHUB_API_URL, token from GITHUB_TOKEN or GH_TOKEN) or git ls-remote "
                            "(default: api)")
    group.add_argument("--git-url-template", metavar="URL",
                       help="with --via git: the URL of each repository, with {owner} and {repo} "
                            "(default: $GITHUB_SERVER_URL/{owner}/{repo}.git)")
    group.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="cache directory (default: $XDG_CACHE_HOME/ci-tools or ~/.cache/ci-tools)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    group.add_argument("--cache-ttl", type=float, default=None, metavar="SECONDS",
                       help="how long tags, branches, releases and image digests stay cached (default: 3600); "
                            "facts about a commit are kept for good")
    group.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="repositories resolved at once (default: 16)")


# option (argparse dest) -> built-in default, for options the command line leaves at None
DEFAULTS: dict[str, object] = {"via": "api", "git_url_template": None, "cache_ttl": None, "jobs": 16,
                               "allow_branches": False, "images": False, "within": "major", "min_age": 0.0}


def settle(args: argparse.Namespace, config) -> None:
    """Fill every option the command line left unset from ``[tool.ci-tools.pin]``, then the default.

    A flag given on the command line always wins. The configured ``git-url-template`` applies only when
    the effective ``via`` is ``git``, so ``--via api`` on the command line does not trip over it.
    """
    pin = config.pin
    for dest, default in DEFAULTS.items():
        if not hasattr(args, dest) or getattr(args, dest) is not None:
            continue
        value = getattr(pin, dest)
        if dest == "git_url_template" and getattr(args, "via", None) != "git":
            value = None
        setattr(args, dest, default if value is None else value)


def resolve_settings(args: argparse.Namespace):
    """The typed :class:`~ci_tools.gha.resolve.ResolveSettings` of the resolution options, once
    :func:`settle` has filled them (an option still unset takes the built-in default)."""
    from ci_tools.gha.resolve import ResolveSettings

    return ResolveSettings(via=args.via or "api", git_url_template=args.git_url_template, cache_dir=args.cache_dir,
                           no_cache=args.no_cache, cache_ttl=args.cache_ttl,
                           jobs=16 if args.jobs is None else args.jobs)


def resolver(args: argparse.Namespace, *, refresh: bool = False):
    """The resolver the command's options name (:func:`ci_tools.gha.resolve.from_settings`)."""
    from ci_tools.gha import resolve

    return resolve.from_settings(resolve_settings(args), refresh=refresh)


def load(args: argparse.Namespace):
    """(root, config, documents) for the command's paths, options settled (:func:`settle`);
    bad arguments raise UsageError."""
    from ci_tools.commands._common import load_settings
    from ci_tools.errors import UsageError
    from ci_tools.gha import resolve
    from ci_tools.gha.discovery import DiscoveryError, nothing_to_check
    from ci_tools.lint import engine

    root, config = load_settings(args)
    settle(args, config)
    resolve.validate(resolve_settings(args))  # a bad option is named before anything is read

    try:
        files = engine.collect_files(list(args.paths), root, config, args.exclude, require=True)
    except DiscoveryError as exc:
        raise UsageError(str(exc)) from None
    files = [f for f in files if f.suffix in (".yml", ".yaml")]
    if not files:
        raise UsageError(nothing_to_check(list(args.paths), root, False))
    return root, config, engine.load_documents(files, root)


def finish(findings, args, docs, config, *, to_stderr: bool = False, alarms=(), extra=None) -> int:
    """Configure, apply ignore comments, sort and emit; returns the exit code of the findings.

    ``alarms`` are findings that neither configuration nor an ignore comment may silence or lower (a moved
    tag of an immutable release): a pull request can write both, and this is what a reviewer must see."""
    from ci_tools.commands._common import emit, finalize

    findings = finalize(findings, config, docs, alarms)
    if to_stderr and not args.output:
        with contextlib.redirect_stdout(sys.stderr):
            return emit(findings, args, docs, extra=extra) if findings else 0
    return emit(findings, args, docs, extra=extra)


def note(message: str) -> None:
    from ci_tools.core.redact import redact

    sys.stderr.write(redact(message) + "\n")
