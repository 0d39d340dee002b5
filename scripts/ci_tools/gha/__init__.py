"""What ci-tools knows about GitHub Actions, for every domain: its files, its references, its services.

The files:

- :mod:`~ci_tools.gha.source`: the only module that touches PyYAML (documents, positions, traversal);
- :mod:`~ci_tools.gha.discovery`: which files a command reads (the repository's workflows, actions,
  templates and Dependabot configuration); it sits here rather than in core because it sorts files
  by their GitHub Actions kind (:func:`ci_tools.gha.source.classify`);
- :mod:`~ci_tools.gha.scalars`: positions inside a scalar;
- :mod:`~ci_tools.gha.uses`: the one parser of ``uses:`` references;
- :mod:`~ci_tools.gha.expressions`, :mod:`~ci_tools.gha.untrusted`,
  :mod:`~ci_tools.gha.expression_sites`: the ``${{ }}`` language and what an attacker controls in it;
- :mod:`~ci_tools.gha.interface`: the caller-facing interface of reusable workflows and actions;
- :mod:`~ci_tools.gha.docsgen`: that interface as markdown tables. The ``docs`` command writes them and
  lint's ``docs-drift`` check compares them, so they sit beside the interface rather than in one of
  those domains, which would then import the other;
- :mod:`~ci_tools.gha.jsonschema` and ``schemas/``: JSON Schema validation with positions.

The services:

- :mod:`~ci_tools.gha.resolve`: where references point (the GitHub REST API, ``git ls-remote``, OCI
  registries, the cache in front of them) behind one ``Resolver`` interface. pin resolves with it, and
  so do review (``report --online``) and metrics (the GitHub transport), so it is no one domain's;
- :mod:`~ci_tools.gha.advisories` and ``data/``: versions known to be compromised, and archived
  repositories; the lint check, ``verify --online`` and ``report`` all read them.
"""
