"""What a run hands back: the result of the whole action, of each step, and the stand-in interface.

``ActionResult`` and ``StepResult`` hold what GitHub shows of a run: each step's ``outcome`` and
``conclusion`` as the ``steps`` context has them (a ``continue-on-error`` step that failed has
outcome ``failure`` and conclusion ``success``), the action's outputs, the annotations and the
job summary. ``StepCall`` and ``StandInFailure`` are the contract with the stand-ins a test gives
for ``uses:`` steps that cannot run here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class StandInFailure(Exception):
    """Raised by a stand-in to fail its ``uses:`` step; the message becomes an ``::error::``."""


@dataclass
class StepCall:
    """What a stand-in for a ``uses:`` step receives."""

    uses: str  # as written, with @ref
    inputs: dict[str, str]  # evaluated `with:`
    env: dict[str, str]  # the process environment the step would have had
    workspace: Path
    temp: Path  # RUNNER_TEMP


@dataclass
class StepResult:
    """One step as the ``steps`` context sees it, plus what it printed. A ``continue-on-error``
    step that failed has outcome ``failure`` and conclusion ``success``."""

    id: str
    name: str
    outcome: str  # success | failure | skipped | cancelled
    conclusion: str
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    skipped: bool = False
    exit_code: int | None = None


@dataclass
class ActionResult:
    """The whole run. ``failed``: a step concluded ``failure``. ``errors``/``warnings``/``notices``:
    messages of annotations, the runner's own failures (missing stand-in, timeout, bad expression)
    included. Output texts are masked (``::add-mask::`` values, ``github.token``); outputs are not."""

    outputs: dict[str, str]
    failed: bool
    steps: list[StepResult]
    summary: str
    errors: list[str]
    warnings: list[str]
    notices: list[str]
    stdout: str
    stderr: str
    env: dict[str, str]  # everything exported through GITHUB_ENV
    temp: Path  # RUNNER_TEMP (kept until the test process exits)

    def step(self, step_id: str) -> StepResult:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"no step with id {step_id!r}; ids: {[s.id for s in self.steps]}")
