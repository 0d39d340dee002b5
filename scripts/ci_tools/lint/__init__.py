"""``ci-tools check``: actionlint, the schemas and the organisation's checks in one pass.

- :mod:`~ci_tools.lint.engine`: loading documents and running the checks over them;
- :mod:`~ci_tools.lint.parallel`: half of a large input in a forked child;
- :mod:`~ci_tools.lint.actionlint`: actionlint (and shellcheck through it), run once in the background;
- :mod:`~ci_tools.lint.checks`: one module per check behind an explicit registry;
- :mod:`~ci_tools.lint.reference`: the checks reference (``docs/checks.md``; ``reference.md`` is a link
  to it, so a wheel carries it) for ``--explain`` and SARIF help.
"""
