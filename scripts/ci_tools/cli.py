"""Argument parsing only. Each subcommand is a module of :mod:`ci_tools.commands` exporting
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.

The errors a command raises and the exit codes they become are in :mod:`ci_tools.errors`:
0 clean, 1 findings (or files changed by a fixing command), 2 usage error, 3 fatal error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from ci_tools import __version__
from ci_tools.errors import EXIT_FATAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, FatalError, UsageError


def command_modules():
    import ci_tools.commands as package

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"ci_tools.commands.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ci-tools",
        description="Lint, pin and verify GitHub Actions workflows, composite actions and templates.",
    )
    parser.add_argument("--version", action="version", version=f"ci-tools {__version__}")
    parser.add_argument("--verbose", action="store_true", help="print tracebacks of fatal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(_subparsers={})
    for module in command_modules():
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        parser.get_default("_subparsers")[module.NAME] = cmd
        cmd.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="print tracebacks of fatal errors")
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ci_tools.core.redact import redact

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # argparse leaves what a subcommand does not know to the top-level parser, whose usage says
        # nothing of that subcommand's options: let the subcommand's parser say it (exit 2)
        owner = parser.get_default("_subparsers").get(getattr(args, "command", None) or "", parser)
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except KeyboardInterrupt as exc:  # a write interrupted says what became of the files
        sys.stderr.write("ci-tools: interrupted" + (f"; {exc}" if str(exc) else "") + "\n")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        sys.stderr.write(f"ci-tools {args.command}: {redact(str(exc))}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # one line, never a traceback unless asked
        if getattr(args, "verbose", False):
            import traceback

            sys.stderr.write(redact(traceback.format_exc()))
        message = str(exc) if isinstance(exc, FatalError) else f"{type(exc).__name__}: {exc}"
        sys.stderr.write(f"ci-tools {args.command}: error: {redact(message)}\n")
        return EXIT_FATAL


def entry() -> NoReturn:
    """The console script and ``python -m ci_tools``: :func:`main`, then exit without tearing down.

    Every file is written and closed when :func:`main` returns; what is left is freeing the node
    trees of every file read, object by object, which on a large repository costs a tenth of the
    run. Flush what was printed and leave.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)
