"""The errors a command raises and the exit codes :func:`ci_tools.cli.main` turns them into.

They live here, below every other module, so that library code (configuration, resolvers) can say
"bad argument" or "stop" without importing the command line: :mod:`ci_tools.cli` is the one place
that catches them, and nothing but it and :mod:`ci_tools.commands` imports it.

Exit codes: 0 clean, 1 findings (or files changed by a fixing command), 2 usage error, 3 fatal
error (one line, no traceback unless ``--verbose``), 130 interrupted.
"""

from __future__ import annotations

EXIT_OK, EXIT_USAGE, EXIT_FATAL, EXIT_INTERRUPTED = 0, 2, 3, 130


class UsageError(Exception):
    """Raised by a command for a bad argument it could only detect after parsing (exit 2)."""


class FatalError(Exception):
    """Raised by a command for a failure that stops it (exit 3, one line)."""
