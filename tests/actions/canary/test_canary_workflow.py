"""canary-deploy.yml and its starter: what the action's tests cannot see from inside the step."""

from __future__ import annotations

import yaml
from canary_world import ACTION, REPO

WORKFLOW = REPO / ".github" / "workflows" / "canary-deploy.yml"


def steps() -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["canary"]["steps"]


def test_a_cancelled_job_finishes_the_rollback_before_the_kubeconfig_goes():
    """The runner runs ``if: cancelled()`` steps after a cancel or a job timeout: the rollback there reaches
    the cluster (the kubeconfig is removed after it) with the very inputs of the canary step, the
    plugin's mirror and checksum included (it installs the plugin again when the canary step did not)."""
    names = [s.get("id") or s["name"] for s in steps()]
    canary, rollback, remove = (next(s for s in steps() if s.get("id") == "canary"),
                                next(s for s in steps() if s.get("if") == "cancelled()"),
                                steps()[-1])
    assert rollback["uses"] == canary["uses"] == "$/actions/canary"
    kept = ("rollout", "namespace", "container", "image", "plugin-sha256", "download-url")
    assert rollback["with"] == {**{k: canary["with"][k] for k in kept}, "mode": "rollback"}
    assert names.index("canary") < steps().index(rollback) < len(names) - 1
    assert remove["if"] == "always()" and "rm -f" in remove["run"]


def test_the_mode_input_is_declared_with_canary_as_its_default():
    inputs = yaml.safe_load((ACTION / "action.yml").read_text(encoding="utf-8"))["inputs"]
    assert inputs["mode"]["default"] == "canary" and not inputs["mode"].get("required")


def test_the_script_is_the_steps_own_process():
    """The runner signals only the step's process (ProcessInvoker.cs): without exec that is bash, which
    neither passes SIGINT on nor waits after SIGTERM (test_canary_signals.py shows both). Python starts
    isolated (-I), as in every action: nothing of the caller's checkout is imported."""
    run = yaml.safe_load((ACTION / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"][0]["run"]
    assert run.strip().splitlines()[-1] == 'exec python3 -I "$GITHUB_ACTION_PATH/canary.py"'


def test_the_starter_names_no_rollout_after_the_repository():
    """A repository name (``Shop_Web``) is no Kubernetes name: the starter leaves both to fill in, and its
    placeholders are what ``ci-tools check`` reports in a workflow made from it."""
    from ci_tools.gha.source import load
    from ci_tools.lint.checks import unfilled_placeholder

    starter = REPO / "workflow-templates" / "canary-deploy.yml"
    text = starter.read_text(encoding="utf-8")
    call = yaml.safe_load(text)["jobs"]["canary"]["with"]
    assert (call["rollout"], call["namespace"]) == ("<rollout-name>", "<namespace>")
    assert "repository" not in str(call)
    copied = load(starter, display=".github/workflows/canary-deploy.yml")
    copied.kind = "workflow"  # where a service repository keeps it
    found = list(unfilled_placeholder.check(copied, None))
    assert [(f.location.line, f.message.split('"')[1]) for f in found] == [
        (text[: text.index("rollout: <rollout-name>")].count("\n") + 1, "<rollout-name>"),
        (text[: text.index("namespace: <namespace>")].count("\n") + 1, "<namespace>"),
    ]


def test_cosign_is_installed_pinned_before_the_canary_when_asked():
    names = [s.get("id") or s.get("name") for s in steps()]
    install = next(s for s in steps() if "cosign-installer" in str(s.get("uses")))
    assert install["if"] == "inputs.verify-signature"
    assert install["uses"].startswith("sigstore/cosign-installer@6f9f17788090df1f26f669e9d70d6ae9567deba6")
    assert names.index(install["name"]) < names.index("canary")
    canary = next(s for s in steps() if s.get("id") == "canary")
    assert canary["with"]["certificate-github-workflow-repository"] == (
        "${{ inputs.certificate-github-workflow-repository || github.repository }}")
