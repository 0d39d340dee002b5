"""actions/check end to end through the local runner (``support.runner``): the action's own steps with
the real ci-tools of this repository on real git workspaces, its happy path and every failure reason.

The dependencies come from the repository's `.venv`, named by ``CI_TOOLS_PYTHON`` (the action's
documented switch for a runner image that has them), so no test downloads anything; the install
failure runs the real venv + pip path with every package index switched off.

Stand-in: ``github/codeql-action/upload-sarif`` uploads to GitHub's code scanning, which cannot run
here; ``check_support.UploadSarif`` checks the SARIF file the way the real action does before its
upload and answers with a ``sarif-id``, or fails with the API's message for a token without
``security-events: write``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_support import ACTION, BAD, CLEAN, INCONSISTENT, USES, VENV_PYTHON, UploadSarif, workspace  # noqa: E402

from support.runner import run_action  # noqa: E402

WF = ".github/workflows/ci.yml"
HAVE = {"CI_TOOLS_PYTHON": str(VENV_PYTHON)}


def _run(ws: Path, inputs: dict | None = None, env: dict | None = None, upload: UploadSarif | None = None, **kw):
    return run_action(ACTION, inputs=inputs or {}, workspace=ws, env={**HAVE, **(env or {})},
                      stand_ins={USES: upload or UploadSarif()}, **kw)


def test_clean_workflow_passes_and_uploads(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    upload = UploadSarif()
    result = _run(ws, {"sarif": "true", "sarif-category": "gate"}, upload=upload)
    assert not result.failed, result.stdout + result.stderr
    assert result.outputs["findings"] == "0"
    assert result.outputs["failure-reason"] == ""
    assert [s.outcome for s in result.steps] == ["success", "success", "success", "skipped", "skipped"]
    assert len(upload.calls) == 1 and upload.calls[0].inputs["category"] == "gate"
    assert upload.calls[0].inputs["sarif_file"] == result.outputs["sarif-file"]
    assert upload.logs[0]["runs"][0]["results"] == []
    assert "### ci-tools: passed" in result.summary
    assert result.errors == []


def test_bad_workflow_fails_with_findings_after_uploading_them(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: BAD})
    upload = UploadSarif()
    result = _run(ws, {"sarif": "true"}, upload=upload)
    assert result.failed
    assert result.outputs["failure-reason"] == "findings"
    assert result.outputs["findings"] == "1"
    assert result.step("upload").outcome == "success"  # uploaded although the check failed
    assert result.step("gate").outcome == "failure"
    [log] = upload.logs
    [finding] = log["runs"][0]["results"]
    assert finding["ruleId"] == "template-injection"
    assert finding["locations"][0]["physicalLocation"]["region"]["startLine"] == 14
    assert "| error | `template-injection` | `.github/workflows/ci.yml:14:20` |" in result.summary
    assert any('"github.event.pull_request.title" can be written by an attacker' in e for e in result.errors)
    assert result.errors[-1] == ("ci-tools check reported findings at or above warning (1 in all); see the "
                                 "annotations and the job summary")


def test_without_sarif_nothing_is_uploaded(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: BAD})
    upload = UploadSarif()
    result = _run(ws, upload=upload)
    assert result.failed and result.outputs["failure-reason"] == "findings"
    assert result.step("upload").skipped and upload.calls == []
    assert Path(result.outputs["sarif-file"]).is_file()


def test_verify_failed(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN, ".github/workflows/other.yml": INCONSISTENT})
    result = _run(ws)
    assert result.failed
    assert result.outputs["failure-reason"] == "verify-failed"
    assert "`inconsistent-pin`" in result.summary
    assert _run(ws, {"verify": "false"}).outputs["failure-reason"] == ""


def test_working_directory(tmp_path: Path):
    ws = tmp_path / "ws"
    workspace(ws / "svc", {WF: BAD})
    upload = UploadSarif()
    result = _run(ws, {"working-directory": "svc", "sarif": "true"}, upload=upload)
    assert result.outputs["failure-reason"] == "findings"
    uri = upload.logs[0]["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "svc/.github/workflows/ci.yml"
    assert "`svc/.github/workflows/ci.yml:14:20`" in result.summary


def test_invalid_input(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    result = _run(ws, {"fail-level": "fatal", "sarif": "true"})
    assert result.failed
    assert result.outputs["failure-reason"] == "invalid-input"
    assert result.errors == ['fail-level must be one of note, warning, error, not "fatal"']
    assert result.step("upload").skipped and result.step("gate").skipped
    assert "**Failed** (`invalid-input`)" in result.summary


def test_tool_error(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    result = _run(ws, {"verify-online": "true"},
                  env={"CI_TOOLS_HTTP_BACKOFF": "0", "XDG_CACHE_HOME": str(tmp_path / "cache")},
                  github={"api_url": "http://127.0.0.1:9", "token": "ghs_test-token-value"})
    assert result.failed
    assert result.outputs["failure-reason"] == "tool-error"
    assert result.errors[0].startswith("ci-tools verify stopped (exit 3): ci-tools verify: error: cannot connect to "
                                       "http://127.0.0.1:9 (connection refused)")
    assert "ghs_test-token-value" not in result.stdout + result.stderr + result.summary


def test_sarif_upload_failed(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    result = _run(ws, {"sarif": "true"}, upload=UploadSarif(fail=True))
    assert result.failed
    assert result.outputs["failure-reason"] == "sarif-upload-failed"
    assert result.step("upload").outcome == "failure"
    assert any(e.startswith("the SARIF upload to code scanning failed") for e in result.errors)
    assert "**Failed** (`sarif-upload-failed`)" in result.summary


def test_install_failed(tmp_path: Path):
    """No CI_TOOLS_PYTHON: the real install path, a virtual environment and pip, with no index to read."""
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    result = run_action(ACTION, inputs={"sarif": "true"}, workspace=ws,
                        env={"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"},
                        stand_ins={USES: UploadSarif()})
    assert result.failed
    assert result.outputs["failure-reason"] == "install-failed"
    assert result.errors[0].startswith("pip could not install ci-tools' dependencies")
    assert [s.outcome for s in result.steps[1:]] == ["skipped"] * 4
    assert "**Failed** (`install-failed`)" in result.summary
    assert result.outputs["findings"] == ""


def test_python_unavailable(tmp_path: Path):
    """A PATH with bash but no python3, as on a minimal self-hosted runner."""
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "env"):
        real = next(Path(d) / tool for d in os.environ["PATH"].split(os.pathsep) if (Path(d) / tool).is_file())
        (bin_dir / tool).symlink_to(real)
    result = run_action(ACTION, workspace=ws, env={"PATH": str(bin_dir)}, stand_ins={USES: UploadSarif()})
    assert result.failed
    assert result.outputs["failure-reason"] == "python-unavailable"
    assert result.errors == ["python3 is not on PATH; add actions/setup-python before this action"]

