"""Tests of the local composite-action runner (tests/support/runner/).

Each test lays a small action.yml in tmp_path and runs it for real (bash, python3); `uses:` steps
go to stand-ins, as they do in the action tests. Expected expression results follow GitHub's
documented semantics (docs: "Evaluate expressions in workflows and actions": loose equality
coerces differing types to numbers, strings compare ignoring case, falsy values are false, 0, -0,
'', null; NaN never equals anything)."""

from __future__ import annotations

import hashlib
import json
import math
import textwrap
import time
from pathlib import Path

import pytest
import yaml

import support.runner.steps as runner_steps
from support.runner import ExpressionError, Scope, StandInFailure, StepCall, parse_file_command, render, run_action


def action(tmp_path: Path, steps: list[dict], inputs: dict | None = None, outputs: dict | None = None,
           name: str = "act") -> Path:
    """Write a composite action with these steps and return its directory."""
    doc = {"name": name, "description": "test", "inputs": inputs or {},
           "outputs": {k: {"description": k, "value": v} for k, v in (outputs or {}).items()},
           "runs": {"using": "composite", "steps": steps}}
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "action.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def bash(script: str, **extra) -> dict:
    return {"shell": "bash", "run": textwrap.dedent(script), **extra}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    w.mkdir()
    return w


# ---------------------------------------------------------------- steps, outputs, file commands

def test_outputs_flow_between_steps_and_to_action_outputs(tmp_path, ws):
    act = action(tmp_path, [
        bash('echo "n=41" >> "$GITHUB_OUTPUT"', id="a"),
        bash('echo "n=$((N + 1))" >> "$GITHUB_OUTPUT"', id="b", env={"N": "${{ steps.a.outputs.n }}"}),
    ], outputs={"answer": "${{ steps.b.outputs.n }}", "both": "${{ steps.a.outputs.n }}-${{ steps.b.outputs.n }}"})
    result = run_action(act, workspace=ws)
    assert not result.failed, result.errors
    assert result.outputs == {"answer": "42", "both": "41-42"}
    assert result.step("a").outputs == {"n": "41"}
    assert [s.outcome for s in result.steps] == ["success", "success"]


def test_heredoc_outputs_and_env_keep_lines_and_equals_signs(tmp_path, ws):
    act = action(tmp_path, [bash("""\
        {
          echo 'text<<EOF_1'
          printf 'line one\\nkey=value\\n\\nlast\\n'
          echo 'EOF_1'
          echo 'plain=a=b<<c'
          echo 'MULTI<<END'
          printf 'x\\ny\\n'
          echo 'END'
        } >> "$GITHUB_OUTPUT"
        echo 'MULTI<<END' >> "$GITHUB_ENV"; printf 'x\\ny\\nEND\\n' >> "$GITHUB_ENV"
        """, id="s"),
        bash('printf "%s|" "$MULTI" > out.txt')],
        outputs={"text": "${{ steps.s.outputs.text }}", "plain": "${{ steps.s.outputs.plain }}"})
    result = run_action(act, workspace=ws)
    assert not result.failed, result.errors
    assert result.outputs == {"text": "line one\nkey=value\n\nlast", "plain": "a=b<<c"}
    assert result.step("s").outputs["MULTI"] == "x\ny"
    assert (ws / "out.txt").read_text() == "x\ny|"


def test_unterminated_heredoc_fails_the_step(tmp_path, ws):
    act = action(tmp_path, [bash("printf 'x<<EOF\\nno end\\n' >> \"$GITHUB_OUTPUT\"", id="s")])
    result = run_action(act, workspace=ws)
    assert result.failed
    assert any("Matching delimiter not found 'EOF'" in e for e in result.errors)


def test_parse_file_command_formats():
    assert parse_file_command("a=1\n\nb<<X\n1\n2\nX\nc=\n") == {"a": "1", "b": "1\n2", "c": ""}
    assert parse_file_command("a<<X\r\nv\r\nX\r\n") == {"a": "v"}
    with pytest.raises(ValueError, match="Invalid format"):
        parse_file_command("novalue\n")
    with pytest.raises(ValueError, match="Name must not be empty"):
        parse_file_command("=v\n")


def test_github_env_and_path_reach_later_steps_only(tmp_path, ws):
    tool_dir = ws / "tools"
    tool_dir.mkdir()
    (tool_dir / "hello-tool").write_text("#!/bin/sh\necho tool-ran\n")
    (tool_dir / "hello-tool").chmod(0o755)
    act = action(tmp_path, [
        bash(f'echo "GREETING=hi" >> "$GITHUB_ENV"; echo "{tool_dir}" >> "$GITHUB_PATH"; '
             'echo "same=${GREETING:-unset}" >> "$GITHUB_OUTPUT"', id="a"),
        bash('echo "later=$GREETING $(hello-tool)" >> "$GITHUB_OUTPUT"', id="b"),
        bash('echo "ctx=$X" >> "$GITHUB_OUTPUT"', id="c", env={"X": "${{ env.GREETING }}"}),
    ])
    result = run_action(act, workspace=ws)
    assert not result.failed, result.errors
    assert result.step("a").outputs == {"same": "unset"}
    assert result.step("b").outputs == {"later": "hi tool-ran"}
    assert result.step("c").outputs == {"ctx": "hi"}
    assert result.env == {"GREETING": "hi"}


def test_path_argument_and_env_argument_reach_every_step(tmp_path, ws):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text("#!/bin/sh\necho fake-git\n")
    (bin_dir / "git").chmod(0o755)
    act = action(tmp_path, [bash('echo "r=$(git) $EXTRA" >> "$GITHUB_OUTPUT"', id="a")])
    result = run_action(act, workspace=ws, path=[bin_dir], env={"EXTRA": "yes"})
    assert result.step("a").outputs == {"r": "fake-git yes"}


def test_environment_is_clean_and_has_github_variables(tmp_path, ws, monkeypatch):
    monkeypatch.setenv("LEAKY_VARIABLE", "leak")
    act = action(tmp_path, [bash("env > env.txt", id="dump")], inputs={"x": {"description": "x", "default": "1"}})
    event = {"pull_request": {"number": 7, "base": {"ref": "main", "sha": "b" * 40}, "head": {"ref": "feat"}}}
    run_action(act, workspace=ws, github={"event_name": "pull_request", "event": event, "api_url": "http://127.0.0.1:9"})
    env = dict(line.split("=", 1) for line in (ws / "env.txt").read_text().splitlines() if "=" in line)
    assert "LEAKY_VARIABLE" not in env
    assert "INPUT_X" not in env  # the real runner sets no INPUT_* for composite run steps
    assert env["GITHUB_WORKSPACE"] == str(ws)
    assert env["GITHUB_ACTION_PATH"] == str(act)
    assert env["GITHUB_EVENT_NAME"] == "pull_request"
    assert env["GITHUB_API_URL"] == "http://127.0.0.1:9"
    assert env["GITHUB_REPOSITORY"] == "org/svc" and env["GITHUB_REF"] == "refs/heads/main"
    assert env["GITHUB_BASE_REF"] == "main" and env["GITHUB_HEAD_REF"] == "feat"
    assert len(env["GITHUB_SHA"]) == 40
    assert env["CI"] == "true" and env["GITHUB_ACTIONS"] == "true"
    assert json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text()) == event
    assert Path(env["RUNNER_TEMP"]).is_dir()
    assert "GITHUB_TOKEN" not in env


def test_step_summary_is_collected_in_order(tmp_path, ws):
    act = action(tmp_path, [bash('echo "# one" >> "$GITHUB_STEP_SUMMARY"'),
                            bash('echo "two" >> "$GITHUB_STEP_SUMMARY"')])
    assert run_action(act, workspace=ws).summary == "# one\ntwo\n"


def test_python_and_sh_shells_and_working_directory(tmp_path, ws):
    (ws / "sub").mkdir()
    act = action(tmp_path, [
        {"id": "py", "shell": "python", "working-directory": "sub",
         "run": "import os\nopen(os.environ['GITHUB_OUTPUT'], 'a').write('cwd=' + os.getcwd() + '\\n')"},
        {"id": "sh", "shell": "sh", "run": 'echo "ok=$(basename "$0" | sed s/.*[.]//)" >> "$GITHUB_OUTPUT"'},
    ])
    result = run_action(act, workspace=ws)
    assert not result.failed, result.errors
    assert result.step("py").outputs == {"cwd": str(ws / "sub")}
    assert result.step("sh").outputs == {"ok": "sh"}


def test_bash_runs_with_errexit_and_pipefail(tmp_path, ws):
    act = action(tmp_path, [bash("false | true\necho reached > reached.txt", id="a")])
    result = run_action(act, workspace=ws)
    assert result.failed and result.step("a").exit_code == 1
    assert not (ws / "reached.txt").exists()


def test_missing_working_directory_fails_the_step(tmp_path, ws):
    result = run_action(action(tmp_path, [bash("true", id="a", **{"working-directory": "nope"})]), workspace=ws)
    assert result.failed and any("nope" in e for e in result.errors)


def test_contexts_seen_by_an_action(tmp_path, ws):
    (ws / "requirements.txt").write_text("pyyaml==6.0.3\n")
    act = action(tmp_path, [
        bash("exit 1", id="bad", **{"continue-on-error": True}),
        bash("true", id="fail"),
        bash("true", id="after", **{"if": "always()"}),
    ], outputs={
        "runner": "${{ runner.os }}/${{ runner.arch }}/${{ runner.temp != '' }}",
        "github": "${{ github.repository_owner }} ${{ github.ref_name }} ${{ github.event_name }} ${{ github.action_path }}",
        "workflow_ref": "${{ github.workflow_ref }}",
        "job": "${{ job.status }}",
        "bad": "${{ steps.bad.outcome }}/${{ steps.bad.conclusion }} ${{ steps.after.outcome }} ${{ steps.nope.outcome }}",
        "hash": "${{ hashFiles('requirements.txt') != '' }}",
        "pr": "${{ github.event.pull_request.number }}",
    })
    result = run_action(act, workspace=ws, github={"repository": "acme/app", "ref": "refs/tags/v1.2.0",
                                                   "event_name": "pull_request",
                                                   "event": {"pull_request": {"number": 12}}})
    assert result.outputs == {
        "runner": "Linux/X64/true", "github": f"acme v1.2.0 pull_request {act}",
        "workflow_ref": "acme/app/.github/workflows/ci.yml@refs/tags/v1.2.0", "job": "success",
        "bad": "failure/success success ", "hash": "true", "pr": "12"}


def test_expressions_inside_run_are_substituted_like_the_real_runner(tmp_path, ws):
    act = action(tmp_path, [bash("echo 'v=${{ inputs.x }}-${{ 1 == 1 }}' >> \"$GITHUB_OUTPUT\"", id="a")],
                 inputs={"x": {"description": "x", "default": "d"}})
    assert run_action(act, workspace=ws).step("a").outputs == {"v": "d-true"}


# ---------------------------------------------------------------- conditions and failure handling

def test_if_status_functions_and_continue_on_error(tmp_path, ws):
    act = action(tmp_path, [
        bash("exit 3", id="soft", **{"continue-on-error": True}),
        bash("echo after-soft", id="after_soft"),
        bash("exit 4", id="hard"),
        bash("echo never", id="skipped"),
        bash("echo f", id="on_failure", **{"if": "failure()"}),
        bash("echo a", id="on_always", **{"if": "${{ always() }}"}),
        bash("echo s", id="on_success", **{"if": "success()"}),
        bash("echo plain", id="plain_if", **{"if": "steps.hard.outcome == 'failure'"}),
        bash("echo c", id="combined", **{"if": "failure() && steps.hard.outcome == 'failure'"}),
    ], outputs={"soft": "${{ steps.soft.outcome }}/${{ steps.soft.conclusion }}"})
    result = run_action(act, workspace=ws)
    assert result.failed
    assert result.outputs == {"soft": "failure/success"}
    outcome = {s.id: s.outcome for s in result.steps}
    assert outcome == {"soft": "failure", "after_soft": "success", "hard": "failure", "skipped": "skipped",
                       "on_failure": "success", "on_always": "success", "on_success": "skipped",
                       "plain_if": "skipped", "combined": "success"}
    assert result.step("skipped").skipped and not result.step("hard").skipped
    assert result.step("soft").conclusion == "success" and result.step("hard").conclusion == "failure"


def test_continue_on_error_alone_does_not_fail_the_action(tmp_path, ws):
    act = action(tmp_path, [bash("exit 1", **{"continue-on-error": "${{ inputs.lenient == 'true' }}"})],
                 inputs={"lenient": {"description": "x", "default": "true"}})
    assert not run_action(act, workspace=ws).failed
    assert run_action(act, workspace=ws, inputs={"lenient": "false"}).failed


def test_outputs_are_evaluated_even_when_a_step_failed(tmp_path, ws):
    act = action(tmp_path, [
        bash('echo "failure-reason=bad-input" >> "$GITHUB_OUTPUT"; echo "::error::input is bad"; exit 1', id="a"),
        bash("echo unreachable", id="b"),
    ], outputs={"failure-reason": "${{ steps.b.outputs.failure-reason || steps.a.outputs.failure-reason }}"})
    result = run_action(act, workspace=ws)
    assert result.failed
    assert result.outputs == {"failure-reason": "bad-input"}
    assert result.errors == ["input is bad"]


def test_invalid_expression_fails_the_step_with_a_message(tmp_path, ws):
    act = action(tmp_path, [bash("echo hi", id="a", env={"X": "${{ nosuchcontext.x }}"}),
                            bash("echo hi", id="b", **{"if": "always() && ("})])
    result = run_action(act, workspace=ws)
    assert result.failed
    assert result.step("a").outcome == "failure" and result.step("b").outcome == "failure"
    assert any("Unrecognized named-value: 'nosuchcontext'" in e for e in result.errors)


# ---------------------------------------------------------------- workflow commands

def test_workflow_commands_errors_warnings_and_masks(tmp_path, ws):
    act = action(tmp_path, [bash("""\
        echo "::add-mask::hunter2"
        echo "password is hunter2"
        echo "::error file=a.py,line=3::broken%0Asecond line 100%25"
        echo "::warning::careful with hunter2" >&2
        echo "::group::g"; echo "::endgroup::"
        echo "::stop-commands::tok1"; echo "::error::not a command"; echo "::tok1::"
        """)], inputs={})
    result = run_action(act, workspace=ws, github={"token": "ghs_secret_value"})
    assert "hunter2" not in result.stdout and "password is ***" in result.stdout
    assert result.errors == ["broken\nsecond line 100%"]
    assert result.warnings == ["careful with ***"]


def test_github_token_is_masked(tmp_path, ws):
    act = action(tmp_path, [bash('echo "token=$T"', env={"T": "${{ github.token }}"})])
    result = run_action(act, workspace=ws, github={"token": "ghs_abc123"})
    assert "ghs_abc123" not in result.stdout and "token=***" in result.stdout


# ---------------------------------------------------------------- uses: stand-ins and nested actions

def test_stand_in_receives_inputs_and_returns_outputs(tmp_path, ws):
    calls: list[StepCall] = []

    def upload(call: StepCall) -> dict[str, str]:
        calls.append(call)
        (call.temp / "seen").write_text(call.inputs["name"])
        return {"artifact-id": "17"}

    act = action(tmp_path, [
        {"id": "up", "uses": "actions/upload-artifact@" + "a" * 40,
         "with": {"name": "report-${{ inputs.n }}", "retention-days": 5}, "env": {"E": "1"}},
        bash('echo "id=$ID" >> "$GITHUB_OUTPUT"', id="after", env={"ID": "${{ steps.up.outputs.artifact-id }}"}),
    ], inputs={"n": {"description": "n", "default": "x"}})
    result = run_action(act, workspace=ws, stand_ins={"actions/upload-artifact": upload})
    assert not result.failed, result.errors
    assert result.step("after").outputs == {"id": "17"}
    assert calls[0].inputs == {"name": "report-x", "retention-days": "5"}
    assert calls[0].env["E"] == "1" and calls[0].workspace == ws
    assert (calls[0].temp / "seen").read_text() == "report-x"


def test_stand_in_can_use_file_commands_like_a_real_action(tmp_path, ws):
    def setup_tool(call: StepCall) -> None:
        Path(call.env["GITHUB_OUTPUT"]).write_text("version=1.2.3\n")
        Path(call.env["GITHUB_ENV"]).write_text("TOOL_HOME=/opt/tool\n")

    act = action(tmp_path, [{"id": "setup", "uses": "acme/setup-tool@v1"},
                            bash('echo "home=$TOOL_HOME" >> "$GITHUB_OUTPUT"', id="after")],
                 outputs={"version": "${{ steps.setup.outputs.version }}"})
    result = run_action(act, workspace=ws, stand_ins={"acme/setup-tool": setup_tool})
    assert result.outputs == {"version": "1.2.3"}
    assert result.step("after").outputs == {"home": "/opt/tool"}


def test_yaml_scalars_become_strings_the_way_github_writes_them(tmp_path, ws):
    folder = tmp_path / "yamlish"
    folder.mkdir()
    (folder / "action.yml").write_text(textwrap.dedent("""\
        name: y
        description: y
        runs:
          using: composite
          steps:
            - id: s
              uses: acme/thing@v1
              with: {flag: true, count: 5, ratio: 0.5, word: on, empty: ""}
            - id: never
              if: false
              shell: bash
              run: exit 1
        """))
    seen: list[StepCall] = []
    result = run_action(folder, workspace=ws, stand_ins={"acme/thing": seen.append})
    assert not result.failed, result.errors
    assert seen[0].inputs == {"flag": "true", "count": "5", "ratio": "0.5", "word": "on", "empty": ""}
    assert result.step("never").skipped


def test_short_token_is_not_masked_character_by_character(tmp_path, ws):
    result = run_action(action(tmp_path, [bash("echo tests ran")]), workspace=ws, github={"token": "t"})
    assert "tests ran" in result.stdout


def test_stand_in_failure_and_missing_stand_in(tmp_path, ws):
    def boom(call: StepCall) -> None:
        raise StandInFailure("Unable to find any artifacts for the associated workflow")

    act = action(tmp_path, [
        {"id": "dl", "uses": "actions/download-artifact@v4"},
        bash('echo "r=${{ steps.dl.outcome }}" >> "$GITHUB_OUTPUT"', id="rec",
             **{"if": "failure() && steps.dl.outcome == 'failure'"}),
        {"id": "sarif", "uses": "github/codeql-action/upload-sarif@v3", "if": "always()"},
    ])
    result = run_action(act, workspace=ws, stand_ins={"actions/download-artifact": boom})
    assert result.failed
    assert result.step("rec").outputs == {"r": "failure"}
    assert result.errors[0] == "Unable to find any artifacts for the associated workflow"
    assert "github/codeql-action/upload-sarif" in result.errors[1] and "stand-in" in result.errors[1]


def test_nested_local_action_runs_recursively(tmp_path, ws, monkeypatch):
    """`./path` resolves against the repository root; the test points that root at tmp_path."""
    monkeypatch.setattr(runner_steps, "REPO", tmp_path)
    inner = action(tmp_path / "actions", [
        bash('echo "v=inner-$V" >> "$GITHUB_OUTPUT"; echo "FROM_INNER=1" >> "$GITHUB_ENV"; '
             'echo "::warning::from inner"; echo "ap=$GITHUB_ACTION_PATH" >> "$GITHUB_OUTPUT"; echo "o=$OUTER"',
             id="i", env={"V": "${{ inputs.value }}"})],
        inputs={"value": {"description": "v", "required": True}},
        outputs={"v": "${{ steps.i.outputs.v }}", "ap": "${{ steps.i.outputs.ap }}"}, name="inner")
    outer = action(tmp_path, [
        {"id": "n", "uses": "./actions/inner", "with": {"value": "${{ inputs.x }}"}, "env": {"OUTER": "yes"}},
        bash('echo "got=$FROM_INNER" >> "$GITHUB_OUTPUT"', id="after"),
    ], inputs={"x": {"description": "x", "default": "7"}}, outputs={"v": "${{ steps.n.outputs.v }}"})
    result = run_action(outer, workspace=ws)
    assert not result.failed, result.errors
    assert result.outputs == {"v": "inner-7"}
    assert result.step("n").outputs["ap"] == str(inner)
    assert "o=yes" in result.step("n").stdout
    assert result.step("after").outputs == {"got": "1"}
    assert result.warnings == ["from inner"]


def test_nested_action_with_missing_required_input_fails_the_step(tmp_path, ws, monkeypatch):
    monkeypatch.setattr(runner_steps, "REPO", tmp_path)
    action(tmp_path / "actions", [bash("true")], inputs={"value": {"description": "v", "required": True}},
           name="inner")
    result = run_action(action(tmp_path, [{"id": "n", "uses": "./actions/inner"}]), workspace=ws)
    assert result.failed and any("required input 'value'" in e for e in result.errors)


def test_missing_local_action_fails_the_step(tmp_path, ws):
    outer = action(tmp_path, [{"id": "n", "uses": "./actions/_lib_missing_action"}])
    result = run_action(outer, workspace=ws)
    assert result.failed and any("no action.yml" in e for e in result.errors)


# ---------------------------------------------------------------- inputs and timeouts

def test_input_validation(tmp_path, ws):
    act = action(tmp_path, [bash("true")], inputs={
        "need": {"description": "n", "required": True},
        "opt": {"description": "o", "required": True, "default": "${{ github.event.pull_request.base.sha }}"},
        "num": {"description": "n", "default": 3}})
    with pytest.raises(ValueError, match="unknown input.*'nope'"):
        run_action(act, workspace=ws, inputs={"need": "1", "nope": "2"})
    with pytest.raises(ValueError, match="required input 'need'"):
        run_action(act, workspace=ws)
    event = {"pull_request": {"base": {"sha": "c" * 40}}}
    act2 = action(tmp_path, [bash("true")], inputs={
        "opt": {"description": "o", "default": "${{ github.event.pull_request.base.sha }}"},
        "num": {"description": "n", "default": 3}, "flag": {"description": "f", "default": False}},
        outputs={"all": "${{ inputs.opt }} ${{ inputs.num }} ${{ inputs.flag }} ${{ inputs.extra }}"}, name="b")
    assert run_action(act2, workspace=ws, github={"event": event}).outputs == {"all": f"{'c' * 40} 3 false "}


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (our container's init may not reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_timeout_kills_the_process_group(tmp_path, ws):
    act = action(tmp_path, [
        bash("(sleep 60; echo late > late.txt) &\necho $! > child.pid\nsleep 60", id="slow"),
        bash("echo never > never.txt", id="next"),
    ])
    result = run_action(act, workspace=ws, timeout=2)
    assert result.failed
    assert result.step("slow").outcome == "failure" and result.step("next").skipped
    assert any("timed out" in e for e in result.errors)
    child = int((ws / "child.pid").read_text())
    for _ in range(100):  # the kill is delivered; give the kernel a moment to finish the exit
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child)
    assert not (ws / "never.txt").exists()


def test_composite_run_step_without_shell_is_rejected(tmp_path, ws):
    with pytest.raises(ValueError, match="require `shell`"):
        run_action(action(tmp_path, [{"run": "true"}]), workspace=ws)


# ---------------------------------------------------------------- expression language

def scope(tmp_path: Path | None = None, failed: bool = False) -> Scope:
    ctx = {"inputs": {"name": "Mona", "empty": "", "n": "10"},
           "steps": {"a": {"outputs": {"failure-reason": "", "x": "y"}, "outcome": "success"}},
           "github": {"event": {"pull_request": {"labels": [{"name": "bug"}, {"name": "ci"}]}},
                      "event_name": "push"},
           "env": {"A": "1"}, "obj": {"k": [1, 2]}}
    return Scope(ctx, failed=failed, workspace=tmp_path or Path("."))


CASES = [
    # literals and conversion
    ("'It''s'", "It's"), ("0xff", 255), ("-2.99e-2", -0.0299), ("1.5", 1.5), ("null", None), ("true", True),
    # loose equality with coercion
    ("'1' == 1", True), ("'abc' == 'ABC'", True), ("null == ''", True), ("null == 0", True),
    ("true == 1", True), ("'true' == true", False), ("'' == 0", True), ("' 0xff ' == 255", True),
    ("NaN == NaN", False), ("'x' != 1", True), ("obj == obj", True), ("obj.k == obj.k", True),
    ("fromJSON('[1]') == fromJSON('[1]')", False),
    # comparison
    ("1 < 2", True), ("'b' > 'A'", True), ("'10' < 9", False), ("'a' < 1", False), ("null >= 0", True),
    # && and || return operand values; precedence
    ("inputs.empty || 'default'", "default"), ("inputs.name || 'default'", "Mona"),
    ("inputs.name && 'yes'", "yes"), ("inputs.empty && 'yes'", ""), ("0 || null", None),
    ("steps.a.outputs.failure-reason || steps.b.outputs.failure-reason || 'none'", "none"),
    ("true || false && false", True), ("(true || false) && false", False), ("!false && true", True),
    ("!inputs.name == false", True), ("1 == 1 && 2 > 1", True),
    # property access, case-insensitive, missing -> null
    ("inputs.NAME", "Mona"), ("inputs['name']", "Mona"), ("github.event.pull_request.labels[1].name", "ci"),
    ("github.event.nope.deeper", None), ("obj.k[5]", None), ("env.A", "1"),
    # functions
    ("contains('Hello World', 'WORLD')", True), ("contains(obj.k, '2')", True), ("contains(obj.k, 3)", False),
    ("contains(github.event.pull_request.labels.*.name, 'BUG')", True), ("join(obj.*, ',')", "Array"),
    ("format('{0}|{1}|{2}', obj, obj.k, -0.5)", "Object|Array|-0.5"), ("join(obj.k.*, fromJSON('[]'))", "1,2"),
    ("case(inputs.name == 'mona', 'hi', 'bye')", "hi"), ("case(false, 1, inputs.empty == '', 2, 3)", 2),
    ("-Infinity < -1e300", True), ("'ı' == 'I'", False), ("inputs['NAME']", "Mona"), ("obj.k[' 0x01 ']", 2),
    ("github.event.pull_request.labels[0].NAME", "bug"), ("toJSON(github.event.pull_request.labels.*.name)", '[\n  "bug",\n  "ci"\n]'),
    ("startsWith('refs/heads/main', 'REFS/')", True), ("endsWith('a.yml', '.YML')", True),
    ("format('{0}-{1} {{0}} }}{{', 'a', 1)", "a-1 {0} }{"), ("join(obj.k, '+')", "1+2"), ("join('abc')", "abc"),
    ("fromJSON('{\"a\": [1, true, null]}').a[1]", True), ("fromJSON(inputs.n) > 9", True),
    ("toJSON(obj)", '{\n  "k": [\n    1,\n    2\n  ]\n}'), ("toJSON('x')", '"x"'),
    ("SUCCESS()", True), ("failure()", False), ("always()", True), ("cancelled()", False),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_expression_semantics(expr, expected):
    got = scope().evaluate(expr)
    if isinstance(expected, bool) or expected is None:
        assert got is expected
    elif isinstance(expected, int | float):
        assert isinstance(got, int | float) and not isinstance(got, bool) and math.isclose(got, expected)
    else:
        assert got == expected


@pytest.mark.parametrize(("template", "expected"), [
    ("pre-${{ inputs.name }}-post", "pre-Mona-post"), ("${{ true }}", "true"), ("${{ null }}", ""),
    ("${{ 3.0 }}/${{ 0.5 }}/${{ 1e20 }}", "3/0.5/1E+20"), ("${{ obj }}", '{\n  "k": [\n    1,\n    2\n  ]\n}'),
    ("${{ format('{{{0}}}', 'x') }}", "{x}"), ("no expression", "no expression"), ("${{ 'a}}b' }}", "a}}b"),
])
def test_template_rendering(template, expected):
    assert render(scope(), template) == expected


@pytest.mark.parametrize("expr", ["1 +", "format('{0}')", "format('{x}', 1)", "nosuch(1)", "contains('a')",
                                  "\"double\"", "fromJSON('{bad')", "inputs..name", "(1", "-0xff",
                                  "false && nosuch()", "false && secrets.x", "case(1, 2, 3)", "case(true, 1)",
                                  "!" * 50 + "true", "'abc'.length", "1 =2", "inputs.b@r", "join(obj.k,)x"])
def test_bad_expressions_raise(expr):
    with pytest.raises(ExpressionError):
        scope().evaluate(expr)


def test_status_functions_follow_previous_failures():
    s = scope(failed=True)
    assert s.evaluate("failure()") is True and s.evaluate("success()") is False


def test_hash_files(tmp_path):
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "a.txt").write_text("a")
    (tmp_path / "src" / "deep" / "b.txt").write_text("b")
    (tmp_path / "src" / "deep" / "c.lock").write_text("c")
    s = scope(tmp_path)

    def expected(*names: str) -> str:
        total = hashlib.sha256()
        for n in sorted(names):
            total.update(hashlib.sha256((tmp_path / n).read_bytes()).digest())
        return total.hexdigest()

    assert s.evaluate("hashFiles('**/*.txt')") == expected("src/a.txt", "src/deep/b.txt")
    assert s.evaluate("hashFiles('src/*.txt')") == expected("src/a.txt")
    assert s.evaluate("hashFiles('src/deep', '!**/*.lock')") == expected("src/deep/b.txt")
    assert s.evaluate("hashFiles('**/*.nothing')") == ""


def test_expression_errors_carry_githubs_message_and_position():
    with pytest.raises(ExpressionError, match=r"Unexpected symbol: 'b@r'\. Located at position 8 within"):
        scope().evaluate("inputs.b@r")
    with pytest.raises(ExpressionError, match="references more arguments than were supplied"):
        scope().evaluate("format('{0} {1}', 'a')")


def test_evaluation_memory_is_limited_like_githubs():
    """GitHub stops an expression whose live results pass 1 MB (2 bytes a character)."""
    s = Scope({"inputs": {"big": "x" * 100_000}})
    assert len(s.evaluate("format('{0}{0}{0}{0}', inputs.big)")) == 400_000
    with pytest.raises(ExpressionError, match="maximum allowed memory"):
        s.evaluate("format('{0}{0}{0}{0}{0}{0}', inputs.big)")
