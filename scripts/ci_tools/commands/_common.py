"""What several commands share on the command line."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands.check import add_output_arguments

    add_output_arguments(parser)
    parser.add_argument("--summary", type=Path, metavar="FILE",
                        help="append a Markdown section listing each problem to FILE "
                             "(the action passes $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--config", type=Path, help="configuration file (default: .github/ci-tools.toml "
                                                   "or [tool.ci-tools] in pyproject.toml)")
    parser.add_argument("--root", type=Path, help="repository root (default: the nearest directory with .git)")
