"""What ``pin``, ``update`` and ``verify`` share: reading files and rendering findings."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path


def add_file_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or directories (default: this repository's workflows, actions and templates)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip paths matching GLOB (repeatable)")
    parser.add_argument("--root", type=Path, help="repository root (default: the nearest directory with .git)")
    parser.add_argument("--config", type=Path, help="configuration file")


def load(args: argparse.Namespace):
    """(root, config, documents) for the command's paths; bad arguments raise UsageError."""
    from ci_tools import engine
    from ci_tools.cli import UsageError
    from ci_tools.config import ConfigError, load_config
    from ci_tools.discovery import DiscoveryError, find_root

    root = (args.root or find_root(Path.cwd())).resolve()
    try:
        config = load_config(root, args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        files = engine.collect_files(list(args.paths), root, config, args.exclude)
    except DiscoveryError as exc:
        raise UsageError(str(exc)) from None
    files = [f for f in files if f.suffix in (".yml", ".yaml")]
    return root, config, engine.load_documents(files, root)


def finish(findings, args, docs, config, *, to_stderr: bool = False) -> int:
    from ci_tools import engine
    from ci_tools.commands.check import emit

    findings = engine.configure(findings, config)
    findings = engine.apply_ignores(findings, docs)
    findings = engine.sort_findings(findings)
    if to_stderr and not args.output:
        with contextlib.redirect_stdout(sys.stderr):
            return emit(findings, args, docs) if findings else 0
    return emit(findings, args, docs)


def note(message: str) -> None:
    from ci_tools.redact import redact

    sys.stderr.write(redact(message) + "\n")
