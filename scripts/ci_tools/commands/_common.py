"""What several commands share: the output and repository options, the settings, and writing the report.

Here, above every domain, the lint registry's knowledge of finding ids is handed to the layers
below that must not import it: the configuration's check ids (:func:`load_settings`) and the
rules of SARIF output (:func:`emit`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ci_tools.core.config import Config
    from ci_tools.core.findings import Finding
    from ci_tools.core.output import OutputSettings


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json", "sarif", "github"), default=None,
                        help="output format (default: github when GITHUB_ACTIONS=true, else text)")
    parser.add_argument("--fail-level", choices=("note", "warning", "error"), default="warning",
                        help="lowest severity that makes the exit status 1 (default: warning)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE")


CONFIG_HELP = "configuration file (default: .github/ci-tools.toml or [tool.ci-tools] in pyproject.toml)"


def add_repository_arguments(parser: argparse.ArgumentParser, config_help: str = CONFIG_HELP) -> None:
    """``--config`` and ``--root``, which :func:`load_settings` reads."""
    parser.add_argument("--config", type=Path, help=config_help)
    parser.add_argument("--root", type=Path, help="repository root (default: the nearest directory with .git)")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    add_output_arguments(parser)
    parser.add_argument("--summary", type=Path, metavar="FILE",
                        help="append a Markdown section listing each problem to FILE "
                             "(the action passes $GITHUB_STEP_SUMMARY)")
    add_repository_arguments(parser)


def known_ids() -> set[str]:
    """Every finding id a configuration or an ignore comment may name."""
    from ci_tools.lint import checks

    return checks.known_ids()


def load_settings(args: argparse.Namespace) -> tuple[Path, Config]:
    """``(root, config)`` for a command: ``--root`` or the nearest directory with ``.git``, and
    ``--config`` or the configuration found there; a configuration error is a usage error."""
    from ci_tools.core.config import ConfigError, load_config
    from ci_tools.errors import UsageError
    from ci_tools.gha.discovery import find_root

    if args.root is not None and not Path(args.root).is_dir():
        what = "is not a directory" if Path(args.root).exists() else "no such directory"
        raise UsageError(f"--root {args.root}: {what}")  # never a silent pass over nothing
    root = (args.root or find_root(Path.cwd())).resolve()
    try:
        return root, load_config(root, args.config, known_ids=known_ids())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def output_settings(args: argparse.Namespace) -> OutputSettings:
    """The typed settings of :func:`add_output_arguments` (``--format``, ``--fail-level``, ``--output``)."""
    from ci_tools.core.output import OutputSettings

    return OutputSettings(format=getattr(args, "format", None), fail_level=getattr(args, "fail_level", "warning"),
                          output=getattr(args, "output", None))


def emit(findings: list[Finding], args: argparse.Namespace, sources: Iterable[Any] = (), **kwargs: Any) -> int:
    """:func:`ci_tools.core.output.emit` with the command's :func:`output_settings` and the lint
    registry describing the finding ids."""
    from ci_tools.core import output
    from ci_tools.lint.checks import describe

    return output.emit(findings, output_settings(args), sources, describe=describe, **kwargs)


def finalize(findings: Iterable[Finding], config: Config | None, sources: Iterable[Any] = (),
             alarms: Iterable[Finding] = ()) -> list[Finding]:
    """:func:`ci_tools.core.findings.finalize` with the lint registry's ids for the ignore comments."""
    from ci_tools.core import findings as model

    return model.finalize(findings, config, sources, known_ids=known_ids(), alarms=alarms)
