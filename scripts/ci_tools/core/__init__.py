"""What every domain of ci-tools uses, and which knows nothing of GitHub Actions or of the command line.

- :mod:`~ci_tools.core.findings`: the data model (``Location``, ``Finding``, ``Severity``, ``Fix``);
- :mod:`~ci_tools.core.output`: the reporters (text, json, sarif, github) and writing them;
- :mod:`~ci_tools.core.redact`: tokens never appear in output;
- :mod:`~ci_tools.core.config`: the configuration (``[tool.ci-tools]``), typed;
- :mod:`~ci_tools.core.git`: the one git runner;
- :mod:`~ci_tools.core.fsutil`: atomic writes, one file or all or nothing;
- :mod:`~ci_tools.core.markdown`: escaping text a pull request chose;
- :mod:`~ci_tools.core.progress`: the counter on a terminal's stderr.

Imports point one way: core, then :mod:`ci_tools.gha`, then the domains (lint, pin, review,
hygiene, metrics), then :mod:`ci_tools.commands`, then :mod:`ci_tools.cli`; ``tests/test_layers.py``
holds it.
"""
