"""What the runner keeps for the whole job while an action (and the actions it nests) runs.

One ``Run`` is shared by every step: the variables exported through GITHUB_ENV and the
directories added through GITHUB_PATH (both visible to later steps, as on GitHub), the secrets to
mask, the annotations, the job summary, the process groups to clean up at the end and the deadline
of the run's ``timeout``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .results import StepCall


@dataclass
class Run:
    """State shared by the whole run (and nested actions): what the real runner keeps per job."""

    workspace: Path
    temp: Path
    files: Path
    deadline: float
    timeout: float
    base_env: dict[str, str]
    github: dict[str, Any]
    runner: dict[str, Any]
    stand_ins: dict[str, Callable[[StepCall], dict[str, str] | None]]
    exported: dict[str, str] = field(default_factory=dict)
    prepend_path: list[str] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    timed_out: bool = False

    def mask(self, text: str) -> str:
        """Replace registered secrets by ``***``; values under 4 characters are left alone so a
        test token such as ``"t"`` does not turn every ``t`` of the output into ``***``."""
        for m in sorted((m for m in self.masks if len(m) >= 4), key=len, reverse=True):
            text = text.replace(m, "***")
        return text
