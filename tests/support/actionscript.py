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


# ---------------------------------------------------------------------------------------------
# a step started and cancelled as the runner does it; an error or a wait injected into a script


def step_run(action_dir: Path, step_id: str) -> str:
    """The ``run:`` text of the step ``step_id`` of ``action_dir/action.yml``."""
    import yaml

    steps = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
    return next(step["run"] for step in steps if step.get("id") == step_id)


_INJECTOR = """import os, runpy, sys, time
event, match, ready = (os.environ.pop(name, "") for name in ("TEST_INJECT_EVENT", "TEST_INJECT_MATCH", "TEST_INJECT_READY"))
armed = [bool(event)]


def hook(name, args):
    if armed[0] and name == event and match in repr(args):
        armed[0] = False
        if ready:
            open(ready, "w").close()
            time.sleep(600)
        raise RuntimeError("injected by the test")


sys.addaudithook(hook)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

_PYTHON3 = """#!/bin/sh
# python3 with a fault injected (tests/support/actionscript.py, inject): the script and its arguments
# as given, the interpreter's options too (-I), under an audit hook. exec, so the pid stays the step's.
options=""
while [ "${1#-}" != "$1" ]; do options="$options $1"; shift; done
exec %(python)s $options -c %(code)s "$@"
"""


def inject(directory: Path, event: str, match: str = "", ready: Path | None = None) -> dict[str, str]:
    """Make the ``python3`` found first on PATH run a script with an unexpected error at its first audit
    ``event`` (``subprocess.Popen``, ``urllib.Request``, ``open``...) whose arguments contain ``match``:
    a ``RuntimeError``, or with ``ready`` a wait (the file is created when it starts), as a long command
    would wait. Returns the environment: ``directory`` (which gets that ``python3``) first on ``PATH``
    (append the rest), and the settings, which the script's own environment never sees. A wrapper,
    not ``sitecustomize``: the steps start Python with ``-I``, which reads no ``PYTHONPATH``."""
    import shlex
    import sys

    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "python3"
    wrapper.write_text(_PYTHON3 % {"python": shlex.quote(sys.executable), "code": shlex.quote(_INJECTOR)},
                       encoding="utf-8")
    wrapper.chmod(0o755)
    env = {"PATH": str(directory), "TEST_INJECT_EVENT": event, "TEST_INJECT_MATCH": match}
    if ready is not None:
        env["TEST_INJECT_READY"] = str(ready)
    return env


class Step:
    """A ``run:`` step started as actions/runner v2.336.0 starts a ``bash`` step: the run text in a
    file, ``bash --noprofile --norc -e -o pipefail FILE`` (src/Runner.Worker/Handlers/
    ScriptHandlerHelpers.cs), here in a session of its own so that what it leaves behind is seen."""

    def __init__(self, run: str, env: dict[str, str], *, cwd: Path, files: Path) -> None:
        files.mkdir(parents=True, exist_ok=True)
        script = files / "step.sh"
        script.write_text(run, encoding="utf-8")
        self.output, self.summary_file = files / "output", files / "summary"
        self.output.write_text("")
        self.summary_file.write_text("")
        full = {**env, "GITHUB_OUTPUT": str(self.output), "GITHUB_STEP_SUMMARY": str(self.summary_file)}
        # files, not pipes: a process the step leaves behind must not hold the test up
        self.out, self.err = files / "stdout", files / "stderr"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
                                         env=full, cwd=cwd, stdout=out, stderr=err, start_new_session=True,
                                         stdin=subprocess.DEVNULL)

    def cancel_like_the_runner(self) -> None:
        """CancelAndKillProcessTree (src/Runner.Sdk/ProcessInvoker.cs): SIGINT to the step's own process,
        7.5 s for it to exit, SIGTERM, 2.5 s, then the process tree is killed. Whatever the step left
        running after that (a process orphaned by its shell) stays, for :meth:`leftovers`."""
        import os
        import signal

        for sig, grace in ((signal.SIGINT, 7.5), (signal.SIGTERM, 2.5)):
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                pass
        self.proc.kill()
        self.proc.wait()

    def leftovers(self) -> bool:
        """Whether a process of the step's session is still running (and then kills them all)."""
        import os
        import signal

        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        os.killpg(self.proc.pid, signal.SIGKILL)
        return True

    def run(self) -> ScriptRun:
        """What the step did; call after :meth:`cancel_like_the_runner` (or once it has ended)."""
        return ScriptRun(self.proc.returncode, self.out.read_text(errors="replace"), self.err.read_text(errors="replace"),
                         parse_file_command(self.output.read_text()), self.summary_file.read_text())
