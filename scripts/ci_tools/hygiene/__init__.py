"""Pull request hygiene: ``ci-tools commits``, ``branch``, ``secrets`` and ``policy``.

- :mod:`~ci_tools.hygiene.conventional`: Conventional Commit messages and release-please's bump;
- :mod:`~ci_tools.hygiene.secrets`: detect-secrets over the lines a pull request adds;
- :mod:`~ci_tools.hygiene.added_text`: those lines, whatever the encoding of their files;
- :mod:`~ci_tools.hygiene.policy`: what a pull request changes in the gates' policy.
"""
