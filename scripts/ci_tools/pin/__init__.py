"""``ci-tools pin``, ``update`` and ``verify``: references pinned to commits, moved and verified.

- :mod:`~ci_tools.pin.occurrences`: what can be pinned (remote ``uses:`` with their comments, images);
- :mod:`~ci_tools.pin.plan`: resolving each repository once, then the fixes and refusals;
- :mod:`~ci_tools.pin.rewrite`: applying a plan to the files, all or nothing, or as a diff;
- :mod:`~ci_tools.pin.verify`: what ``verify`` checks, offline and online;
- :mod:`~ci_tools.pin.lockfile`: GitHub's ``actions.lock``;
- :mod:`~ci_tools.pin.transitive`: the actions the pinned actions use in turn (``verify --transitive``).
  It sits here rather than in review: verify runs it, and review reaches it through pin as it reaches
  the rest of verify's online facts.

Resolution itself (:mod:`ci_tools.gha.resolve`) is in gha: review and metrics use it too.
"""
