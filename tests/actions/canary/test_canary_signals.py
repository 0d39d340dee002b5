"""The canary step cancelled the way the runner cancels it: the rollout is aborted and put back.

actions/runner v2.336.0 (98aabcd429c4e8402406c56ce2d26387fed3b9ce) starts a ``run:`` step of shell
``bash`` as ``bash --noprofile --norc -e -o pipefail <script>`` (src/Runner.Worker/Handlers/
ScriptHandlerHelpers.cs, with ``killProcessOnCancel: false`` in ScriptHandler.cs). On cancel, or at
a job or step timeout, ``CancelAndKillProcessTree`` (src/Runner.Sdk/ProcessInvoker.cs) sends SIGINT
to that process only (``kill(pid, SIGINT)``), waits 7.5 s for it to exit, sends SIGTERM, waits
2.5 s, then kills the whole process tree. :func:`cancel_like_the_runner` does exactly that to the
step started from action.yml's own ``run:`` text; kubectl and the plugin are the stand-ins of
kubectl_standin.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from canary_world import ACTION, NEW_IMAGE, OLD_IMAGE, STALE, paused_at, progressing

from support.runner import parse_file_command

INPUTS = {"rollout": "web", "namespace": "shop", "container": "web", "image": NEW_IMAGE, "poll-interval": "0.2",
          "install-plugin": "false", "timeout": "10m"}


class Step:
    """The canary step started as the runner starts it, with its runner files."""

    def __init__(self, world, tmp_path: Path, **inputs: str) -> None:
        run = yaml.safe_load((ACTION / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"][0]["run"]
        self.world = world
        self.root = tmp_path / f"step-{len(list(tmp_path.glob('step-*')))}"
        (self.root / "bin").mkdir(parents=True)
        (self.root / "temp").mkdir()
        (self.root / "bin" / "python3").symlink_to(sys.executable)  # the runner's python3
        script = self.root / "step.sh"
        script.write_text(run, encoding="utf-8")
        self.output, self.summary_file = self.root / "output", self.root / "summary"
        for file in (self.output, self.summary_file):
            file.write_text("", encoding="utf-8")
        env = {"PATH": f"{world.bin}{os.pathsep}{self.root / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
               "GITHUB_ACTION_PATH": str(ACTION), "RUNNER_TEMP": str(tmp_path / "runner-temp"),
               "GITHUB_OUTPUT": str(self.output), "GITHUB_STEP_SUMMARY": str(self.summary_file), **world.env}
        for name, value in {**INPUTS, **inputs}.items():
            env["INPUT_" + name.upper().replace("-", "_")] = value
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
                                     env=env, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.stdout = self.stderr = ""

    def wait_for(self, condition, what: str) -> None:
        for _ in range(1200):
            if condition():
                return
            assert self.proc.poll() is None, f"the step ended before {what}: {self.proc.communicate()}"
            time.sleep(0.05)
        raise AssertionError(f"never saw {what}")

    def watching(self) -> None:
        """Until the step is polling the paused canary (set image done, a few reads after it)."""
        self.wait_for(lambda: self.world.commands() == ["set image"] and len(self.world.calls("kubectl")) >= 4,
                      "the watch")

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.proc.pid, sig)  # the step's own process, as ProcessInvoker.SendSignal does

    def finish(self) -> None:
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=2.5)
        except subprocess.TimeoutExpired:
            self.kill_tree()

    def kill_tree(self) -> None:
        """KillProcessTree: everything the step started (its own session here) is killed."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.stdout, self.stderr = self.proc.communicate()

    @property
    def outputs(self) -> dict[str, str]:
        return parse_file_command(self.output.read_text(encoding="utf-8"))

    @property
    def summary(self) -> str:
        return self.summary_file.read_text(encoding="utf-8")

    @property
    def errors(self) -> list[str]:
        return [line.split("::", 2)[-1] for line in self.stdout.splitlines() if line.startswith("::error")]


def cancel_like_the_runner(step: Step) -> None:
    """CancelAndKillProcessTree: SIGINT, 7.5 s to exit, SIGTERM, 2.5 s to exit, then the tree is killed."""
    step.signal(signal.SIGINT)
    try:
        step.stdout, step.stderr = step.proc.communicate(timeout=7.5)
        return
    except subprocess.TimeoutExpired:
        pass
    if step.proc.poll() is None:
        step.signal(signal.SIGTERM)
    step.finish()


def test_a_cancelled_job_aborts_and_undoes_the_canary(world, tmp_path):
    world.install_plugin()
    world.script(set_image=[STALE, progressing(0), paused_at(1)])
    step = Step(world, tmp_path)
    try:
        step.watching()
        cancel_like_the_runner(step)
    finally:
        step.kill_tree()
    assert step.proc.returncode == 1, (step.proc.returncode, step.stdout, step.stderr)
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE
    assert world.calls()[-1] == ["undo", "web", "--to-revision=4", "-n", "shop"]
    assert step.outputs["failure-reason"] == "cancelled"
    assert step.errors == ["canary cancelled: SIGINT received (the job was cancelled or timed out); ran abort and "
                           "undo to revision 4"]
    assert "Traceback" not in step.stderr and "**Failed** (`cancelled`)" in step.summary


def test_sigterm_alone_rolls_back_too(world, tmp_path):
    """A runner host shutting down (``docker stop``, a service stop) sends SIGTERM first."""
    world.install_plugin()
    world.script(set_image=[STALE, progressing(0), paused_at(1)])
    step = Step(world, tmp_path)
    try:
        step.watching()
        step.signal(signal.SIGTERM)
        step.finish()
    finally:
        step.kill_tree()
    assert step.proc.returncode == 1, (step.stdout, step.stderr)
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE
    assert step.errors == ["canary cancelled: SIGTERM received (the job was cancelled or timed out); ran abort and "
                           "undo to revision 4"]


def test_sigterm_during_the_rollback_does_not_stop_it(world, tmp_path):
    """The runner's SIGTERM (7.5 s after SIGINT) finds the rollback under way: it goes on to the end."""
    world.install_plugin()
    world.script(set_image=[STALE, progressing(0), paused_at(1)])
    world.update(delay={"abort": 0.5})
    step = Step(world, tmp_path)
    try:
        step.watching()
        step.signal(signal.SIGINT)
        step.wait_for(lambda: "abort" in world.commands(), "the abort")
        step.signal(signal.SIGTERM)
        step.stdout, step.stderr = step.proc.communicate(timeout=10)
    finally:
        step.kill_tree()
    assert step.proc.returncode == 1, (step.stdout, step.stderr)
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE
    assert "SIGTERM received: finishing the rollback" in step.stdout
    assert step.errors[-1].endswith("; ran abort and undo to revision 4")


def test_a_cancel_while_set_image_runs_leaves_an_unchanged_rollout_alone(world, tmp_path):
    """set image is killed before it wrote anything: nothing to undo, and no abort of a Healthy rollout."""
    world.install_plugin()
    world.update(delay={"set-image": 5})
    step = Step(world, tmp_path)
    try:
        step.wait_for(lambda: world.commands() == ["set image"], "set image")
        cancel_like_the_runner(step)
    finally:
        step.kill_tree()
    assert step.proc.returncode == 1, (step.stdout, step.stderr)
    assert world.commands() == ["set image"] and world.image() == OLD_IMAGE
    assert step.errors == ["canary cancelled: SIGINT received (the job was cancelled or timed out); nothing to roll "
                           "back (set image had not changed the rollout)"]
    assert f"| check | ok: nothing to roll back: the rollout still has {OLD_IMAGE} |" in step.summary


def test_a_cancel_before_set_image_changes_nothing(world, tmp_path):
    world.install_plugin()
    world.update(delay={"set-image": 5})
    step = Step(world, tmp_path)
    try:
        step.wait_for(lambda: len(world.calls("kubectl")) >= 1 and not world.commands(), "the first read")
        step.signal(signal.SIGINT)
        step.finish()
    finally:
        step.kill_tree()
    assert world.commands() in ([], ["set image"])
    assert world.image() == OLD_IMAGE


def test_a_killed_step_is_finished_by_the_cancelled_step(world, tmp_path):
    """The tree was killed before the rollback ended: ``mode: rollback`` reads the journal and finishes it."""
    world.install_plugin()
    world.script(set_image=[STALE, progressing(0), paused_at(1)])
    step = Step(world, tmp_path)
    try:
        step.watching()
    finally:
        step.kill_tree()  # SIGKILL: no handler runs
    assert world.commands() == ["set image"] and world.image() == NEW_IMAGE
    journal = tmp_path / "runner-temp" / "canary-shop-web.json"
    assert '"status": "watching"' in journal.read_text()
    again = Step(world, tmp_path, mode="rollback")
    again.stdout, again.stderr = again.proc.communicate(timeout=60)
    assert again.proc.returncode == 0, (again.stdout, again.stderr)
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE
    assert "rolled back: abort and undo to revision 4" in again.stdout
    assert "## Canary rollback of shop/web" in again.summary
    assert '"status": "rolled-back"' in journal.read_text()
    third = Step(world, tmp_path, mode="rollback")
    third.stdout, third.stderr = third.proc.communicate(timeout=60)
    assert third.proc.returncode == 0 and "nothing to roll back: the canary step ended rolled-back" in third.stdout
    assert world.commands() == ["set image", "abort", "undo"]


def test_the_cancelled_step_does_nothing_without_a_canary(world, tmp_path):
    world.install_plugin()
    step = Step(world, tmp_path, mode="rollback")
    step.stdout, step.stderr = step.proc.communicate(timeout=60)
    assert step.proc.returncode == 0, step.stdout
    assert "nothing to roll back: no canary step of this job changed it" in step.stdout
    assert world.calls("kubectl") == [] and world.calls() == []


def test_a_journal_of_another_rollout_is_refused(world, tmp_path):
    world.install_plugin()
    journal = tmp_path / "runner-temp" / "canary-shop-web.json"
    journal.parent.mkdir(parents=True)
    journal.write_text('{"status": "watching", "rollout": "api", "namespace": "shop", "before": {}}')
    step = Step(world, tmp_path, mode="rollback")
    step.stdout, step.stderr = step.proc.communicate(timeout=60)
    assert step.proc.returncode == 1
    assert step.errors == [f"the canary journal {journal} is not this rollout's"]
    assert world.calls() == []
