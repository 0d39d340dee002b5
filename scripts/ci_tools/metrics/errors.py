"""The errors of the metrics domain; ``commands/metrics.py`` turns them into exit codes.

:class:`MetricsUsageError` is a bad argument (exit 2); :class:`MetricsError` stops the command (exit 3,
one line). Problems confined to one input (an artifact, one run's answer) are not errors: they become a
named :class:`~ci_tools.metrics.model.Skip` in the report, and everything else is still reported.
"""

from __future__ import annotations


class MetricsError(Exception):
    """A failure that stops ``ci-tools metrics``: the API or the collector could not be used."""


class MetricsUsageError(MetricsError):
    """A bad argument or option value, found after parsing."""
