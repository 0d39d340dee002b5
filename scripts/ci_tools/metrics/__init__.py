"""``ci-tools metrics``: how long pipelines take, where they fail, which tests are flaky.

The domain, self-contained: it uses the GitHub API transport (:mod:`ci_tools.gha.resolve.github`), token
redaction (:mod:`ci_tools.core.redact`), atomic writes (:mod:`ci_tools.core.fsutil`) and the progress counter
(:class:`ci_tools.core.progress.Progress`), and nothing of the command line.

- :mod:`~ci_tools.metrics.client`: the Actions endpoints of the REST API;
- :mod:`~ci_tools.metrics.cache`: completed runs and artifacts kept for good, listing state;
- :mod:`~ci_tools.metrics.collect`: the window's runs, jobs and JUnit reports, on a bounded pool;
- :mod:`~ci_tools.metrics.junit`: hostile-input-safe reading of artifact archives and JUnit XML;
- :mod:`~ci_tools.metrics.analyse`: the figures, as the versioned report (a dict, the JSON output);
- :mod:`~ci_tools.metrics.markdown`: the Markdown report with Mermaid charts, every name escaped;
- :mod:`~ci_tools.metrics.otlp`: one trace per run, sent over OTLP/HTTP;
- :mod:`~ci_tools.metrics.service`: settings to outcome (:func:`generate`), what the command calls.
"""

from ci_tools.metrics.errors import MetricsError, MetricsUsageError
from ci_tools.metrics.service import Outcome, Settings, generate

__all__ = ["MetricsError", "MetricsUsageError", "Outcome", "Settings", "generate"]
