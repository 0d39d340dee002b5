"""Running an action's script as a composite step runs it: real GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.

Each action's tests build the environment their script needs (inputs as ``INPUT_*`` variables,
tools first on PATH) and call :func:`run_script`; the outputs are parsed exactly as the runner
parses them (:func:`support.runner.parse_file_command`), heredoc values included.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from support.runner import parse_file_command


@dataclass
class ScriptRun:
    """One run of an action's script: exit code, printed text, GITHUB_OUTPUT and the job summary."""

    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def errors(self) -> list[str]:
        """Messages of the ``::error`` workflow commands the script printed."""
        return [line.split("::", 2)[-1] for line in self.stdout.splitlines() if line.startswith("::error")]


def run_script(argv: list[str], env: dict[str, str], *, cwd: Path, files: Path, timeout: float = 300) -> ScriptRun:
    """Run ``argv`` with ``env`` plus fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files in ``files``."""
    files.mkdir(parents=True, exist_ok=True)
    output, summary = files / "output", files / "summary"
    output.write_text("")
    summary.write_text("")
    full = {**env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    proc = subprocess.run(argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return ScriptRun(proc.returncode, proc.stdout, proc.stderr, parse_file_command(output.read_text()),
                     summary.read_text())
