"""canary.py run as the action runs it: a subprocess with INPUT_* variables and real runner files.

kubectl and the kubectl-argo-rollouts plugin are stand-ins (kubectl_standin.py: no cluster can
run here) on a PATH that holds nothing else, so the real kubectl of a developer's machine is
never reached. The plugin is "preinstalled" (``install-plugin: false``); installation from a
release is tested end to end in test_canary_e2e.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from canary_world import ACTION, NEW_IMAGE, STALE, healthy, paused_at, progressing

INPUTS = {"rollout": "web", "namespace": "shop", "container": "web", "image": NEW_IMAGE, "poll-interval": "0",
          "install-plugin": "false", "timeout": "10s"}


def read_outputs(path: Path) -> dict[str, str]:
    outputs, lines = {}, path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            name, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, value = lines[i].split("=", 1)
            outputs[name] = value
            i += 1
    return outputs


def run_script(world, tmp_path: Path, path: str | None = None, extra_env: dict | None = None, **inputs):
    files = {name: tmp_path / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH")}
    for file in files.values():
        file.write_text("", encoding="utf-8")
    (tmp_path / "temp").mkdir(exist_ok=True)
    env = {"PATH": path if path is not None else str(world.bin), "RUNNER_TEMP": str(tmp_path / "temp"),
           **world.env, **(extra_env or {}), **{k: str(v) for k, v in files.items()}}
    for name, value in {**INPUTS, **inputs}.items():
        env["INPUT_" + name.upper().replace("-", "_")] = value
    proc = subprocess.run([sys.executable, str(ACTION / "canary.py")], env=env, capture_output=True, text=True,
                          timeout=120)
    return proc, read_outputs(files["GITHUB_OUTPUT"]), files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")


def test_healthy(world, tmp_path):
    world.install_plugin()
    world.script(set_image=[STALE, progressing(0), paused_at(1), progressing(2), healthy()])
    proc, outputs, summary = run_script(world, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs == {"phase": "Healthy", "revision": "5"}
    assert world.commands() == ["set image"] and world.image() == NEW_IMAGE
    assert world.calls()[0] == ["set", "image", "web", f"web={NEW_IMAGE}", "-n", "shop"]
    assert "| 1 | pause (until promoted) | Paused: CanaryPauseStep |" in summary
    assert "::notice::rollout web is paused at step 1 (pause (until promoted)); waiting for: kubectl argo" in proc.stdout
    assert "**Result**: Healthy at revision 5." in summary and proc.stderr == ""


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"image": "registry.example.test/shop/web:1.2.3"},
         'image "registry.example.test/shop/web:1.2.3" is not pinned by digest; use name@sha256:<digest>'
         " (or set allow-tag: true)"),
        ({"image": "web@sha256:abc"}, 'image must be an image reference like name@sha256:<digest>, not "web@sha256:abc"'),
        ({"image": "--help"}, 'image must be an image reference like name@sha256:<digest>, not "--help"'),
        ({"rollout": "-n"}, 'rollout must be a Kubernetes object name, not "-n"'),
        ({"rollout": "<rollout-name>"},
         "rollout is still the starter workflow's placeholder \"<rollout-name>\"; set it to a Kubernetes object name of"
         " yours"),
        ({"namespace": "<namespace>"},
         "namespace is still the starter workflow's placeholder \"<namespace>\"; set it to a Kubernetes namespace name"
         " of yours"),
        ({"rollout": ""}, 'rollout must be a Kubernetes object name, not ""'),
        ({"namespace": "Shop"}, 'namespace must be a Kubernetes namespace name, not "Shop"'),
        ({"container": "web=x"}, 'container must be a container name, not "web=x"'),
        ({"timeout": "soon"}, 'timeout must be a duration like 90s, 15m or 1h30m, not "soon"'),
        ({"poll-interval": "-1"}, 'poll-interval must be a number of seconds from 0 to 600, not "-1"'),
        ({"promote": "yes"}, 'promote must be "auto" or "manual", not "yes"'),
        ({"promote-up-to-step": "two"}, 'promote-up-to-step must be a step index (0, 1, ...), not "two"'),
        ({"install-plugin": "maybe"}, 'install-plugin must be true or false, not "maybe"'),
        ({"allow-tag": "sure"}, 'allow-tag must be true or false, not "sure"'),
        ({"plugin-version": "latest"}, 'plugin-version must be a release tag like v1.9.1, not "latest"'),
        ({"plugin-sha256": "abc"}, 'plugin-sha256 must be 64 hexadecimal digits, not "abc"'),
        ({"download-url": "http://mirror.example.test"},
         'download-url must be an https:// URL (plain http only for loopback), not "http://mirror.example.test"'),
    ],
)
def test_invalid_input(world, tmp_path, inputs, message):
    world.install_plugin()
    proc, outputs, summary = run_script(world, tmp_path, **inputs)
    assert proc.returncode == 1
    assert outputs == {"failure-reason": "invalid-input"}
    assert proc.stdout.splitlines()[-1] == f"::error title=invalid-input::{message}"
    assert world.calls("kubectl") == [] and world.calls() == []
    assert "Traceback" not in proc.stderr and "**Failed** (`invalid-input`)" in summary


def test_a_tag_is_accepted_when_allowed(world, tmp_path):
    world.install_plugin()
    world.script(set_image=[STALE, healthy()])
    proc, outputs, _ = run_script(world, tmp_path, image="registry.example.test/shop/web:1.2.3", **{"allow-tag": "true"})
    assert proc.returncode == 0 and outputs["phase"] == "Healthy"
    assert world.image() == "registry.example.test/shop/web:1.2.3"


def test_set_image_failure_changes_nothing(world, tmp_path):
    world.install_plugin()
    proc, outputs, _ = run_script(world, tmp_path, container="api")
    assert proc.returncode == 1
    assert outputs == {"failure-reason": "set-image-failed"}
    assert proc.stdout.splitlines()[-1] == (
        '::error title=set-image-failed::kubectl argo rollouts set image failed: Error: unable to find container named "api"'
    )
    assert world.commands() == ["set image"] and world.image() != NEW_IMAGE


def test_rollout_not_found(world, tmp_path):
    world.install_plugin()
    proc, outputs, _ = run_script(world, tmp_path, rollout="api")
    assert proc.returncode == 1 and outputs == {"failure-reason": "rollout-not-found"}
    assert proc.stdout.splitlines()[-1] == (
        '::error title=rollout-not-found::Error from server (NotFound): rollouts.argoproj.io "api" not found'
    )
    assert world.calls() == []


def test_kubectl_missing(world, tmp_path):
    world.install_plugin()
    (world.bin / "kubectl").unlink()
    proc, outputs, _ = run_script(world, tmp_path)
    assert proc.returncode == 1 and outputs == {"failure-reason": "kubectl-failed"}
    assert "kubectl is not on PATH" in proc.stdout


def test_plugin_missing_when_not_installed_by_the_action(world, tmp_path):
    proc, outputs, _ = run_script(world, tmp_path)
    assert proc.returncode == 1 and outputs == {"failure-reason": "plugin-install-failed"}
    assert proc.stdout.splitlines()[-1] == (
        "::error title=plugin-install-failed::install-plugin is false but kubectl-argo-rollouts is not on PATH"
    )


def test_a_rollout_with_a_workload_ref_is_refused(world, tmp_path):
    """set image would change the Deployment and leave the Rollout's generation (and stale status) as is."""
    world.install_plugin()
    state = world.state()
    state["current"]["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    world.write(state)
    proc, outputs, _ = run_script(world, tmp_path)
    assert proc.returncode == 1 and outputs == {"failure-reason": "invalid-input"}
    assert proc.stdout.splitlines()[-1] == (
        "::error title=invalid-input::rollout web uses spec.workloadRef; this action only sets images on Rollouts"
        " with their own spec.template"
    )
    assert world.calls() == []




# Issue 14: the plugin is a binary that runs with the cluster's credentials; plain http may reach
# only this runner (a mirror a test or a job starts on loopback), never another host of the network.
PRIVATE_HTTP = ["http://10.1.2.3/releases", "http://172.16.0.10/releases", "http://192.168.1.20/releases",
                "http://169.254.169.254/latest", "http://[fd00::1]/releases", "http://[fe80::1]/releases",
                "http://100.64.0.1/releases", "http://0.0.0.0/releases", "http://mirror.internal/releases",
                "http://127.0.0.1.nip.io/releases", "http://localhost.example.test/releases"]
LOOPBACK_HTTP = ["http://127.0.0.1:8080/releases", "http://127.1.2.3/releases", "http://[::1]:9/releases",
                 "http://localhost:8080/releases", "http://LOCALHOST/releases"]


@pytest.mark.parametrize("url", PRIVATE_HTTP)
def test_plain_http_to_a_private_address_is_refused(canary, monkeypatch, url):
    for name, value in {**INPUTS, "download-url": url}.items():
        monkeypatch.setenv("INPUT_" + name.replace("-", "_").upper(), value)
    with pytest.raises(canary.ActionFailure) as failure:
        canary.read_settings()
    assert failure.value.reason == "invalid-input"
    assert failure.value.message == (f'download-url must be an https:// URL (plain http only for loopback), '
                                     f'not "{url}"')


@pytest.mark.parametrize("url", LOOPBACK_HTTP)
def test_plain_http_to_this_runner_is_allowed(canary, monkeypatch, url):
    for name, value in {**INPUTS, "download-url": url}.items():
        monkeypatch.setenv("INPUT_" + name.replace("-", "_").upper(), value)
    assert canary.read_settings().download_url == url.rstrip("/")
