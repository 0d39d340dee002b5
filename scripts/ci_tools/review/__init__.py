"""``ci-tools report`` and ``ci-tools diff``: what a reviewer reads about the repository's dependencies.

- :mod:`~ci_tools.review.inventory`: every external action, reusable workflow and image, and where;
- :mod:`~ci_tools.review.render`: the inventory as markdown (with a Mermaid graph), JSON, SARIF, text.

The advisories are :mod:`ci_tools.gha.advisories` and the transitive audit
:mod:`ci_tools.pin.transitive`: the online report builds on verify's facts.
"""
