"""Step "check" of actions/check: ``ci-tools check`` and ``ci-tools verify`` on the caller's workspace.

Each command runs once, writing SARIF; the two logs become one SARIF file (one run of the tool
``ci-tools``, so code scanning sees one analysis per category), the log lines (annotations with
``format: github``, ``path:line:col: message [id]`` with ``format: text``), the job summary and the
outputs. The step itself succeeds when the commands ran, so that the SARIF upload after it happens
even when they found something; it sets ``failed=true`` and ``failure-reason`` and the action's
last step fails the job.

Inputs arrive through the environment only (``INPUT_*``, set by action.yml):
PATHS, CONFIG, FORMAT, FAIL_LEVEL, VERIFY, VERIFY_ONLINE, SARIF; ``CI_TOOLS_PYTHON`` from the
install step; ``GITHUB_TOKEN`` for ``verify --online``.

On a pull request (``GITHUB_EVENT_NAME`` ``pull_request`` or ``pull_request_target``) the configuration
and the ignore comments that ``check`` applies are the pull request's own, so the step also runs
``ci-tools policy BASE HEAD`` and appends what the pull request changes in them (configuration keys,
new ``ci-tools: ignore`` and allowlist comments, the secrets baseline) to the job summary and the
annotations. It needs the base commit in the checkout (``fetch-depth: 2`` brings both parents of the
merge commit GitHub checks out); without it the summary says that nothing was compared.

Failure reasons: ``invalid-input``, ``findings``, ``verify-failed``, ``tool-error``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "_lib"))
import actionkit  # noqa: E402

LAUNCHER = HERE.parent / "_lib" / "run_ci_tools.py"
LEVELS = ("note", "warning", "error")
FORMATS = ("github", "text")
ANNOTATION = {"error": "error", "warning": "warning", "note": "notice"}
SUMMARY_ROWS = 100  # the job summary is capped at 1 MiB; the SARIF file and the log hold every finding


class Inputs:
    def __init__(self) -> None:
        self.paths = actionkit.env("INPUT_PATHS").split()
        self.config = actionkit.env("INPUT_CONFIG")
        self.format = actionkit.env("INPUT_FORMAT", "github").lower() or "github"
        self.fail_level = actionkit.env("INPUT_FAIL_LEVEL", "warning").lower() or "warning"
        self.verify = actionkit.env_bool("INPUT_VERIFY", True)
        self.verify_online = actionkit.env_bool("INPUT_VERIFY_ONLINE", False)
        self.sarif = actionkit.env_bool("INPUT_SARIF", False)
        self.python = actionkit.env("CI_TOOLS_PYTHON") or sys.executable
        if self.format not in FORMATS:
            raise actionkit.ActionFailure("invalid-input", f'format must be one of {", ".join(FORMATS)}, '
                                                           f'not "{self.format}"')
        if self.fail_level not in LEVELS:
            raise actionkit.ActionFailure("invalid-input", f'fail-level must be one of {", ".join(LEVELS)}, '
                                                           f'not "{self.fail_level}"')


def run() -> None:
    inputs = Inputs()
    out_dir = Path(os.environ.get("RUNNER_TEMP") or "/tmp") / "ci-tools-check"
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = _workspace_prefix()
    common = [*inputs.paths, "--fail-level", inputs.fail_level, "--format", "sarif"]
    if inputs.config:
        common += ["--config", inputs.config]
    reports: list[tuple[str, dict, int]] = []
    rc, log = _ci_tools(inputs, ["check", *common], out_dir / "check.sarif")
    reports.append(("check", log, rc))
    if inputs.verify:
        args = ["verify", *common] + (["--online"] if inputs.verify_online else [])
        rc, log = _ci_tools(inputs, args, out_dir / "verify.sarif")
        reports.append(("verify", log, rc))
    merged = merge([log for _, log, _ in reports], prefix)
    sarif_file = out_dir / "ci-tools.sarif"
    sarif_file.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    results = merged["runs"][0]["results"]
    _print(results, inputs.format)
    failed = [name for name, _, rc in reports if rc == 1]
    reason = "findings" if "check" in failed else "verify-failed" if failed else ""
    actionkit.set_output("findings", len(results))
    actionkit.set_output("sarif-file", str(sarif_file))
    actionkit.set_output("upload", "true" if inputs.sarif else "false")
    actionkit.set_output("failed", "true" if reason else "false")
    actionkit.set_output("failure-reason", reason)
    if reason:
        what = " and ".join(f"ci-tools {name}" for name in failed)
        actionkit.set_output("failure-message", f"{what} reported findings at or above {inputs.fail_level} "
                                                f"({len(results)} in all); see the annotations and the job summary")
    actionkit.summary(summary(reports, results, inputs, reason))
    policy(inputs)


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, errors="replace", timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def pull_request_base() -> tuple[str, str] | None:
    """``(base commit, why not compared)`` on a pull request: the event's base when the checkout has it,
    else the first parent of the merge commit GitHub checks out; ``("", reason)`` when neither is here;
    None outside pull requests."""
    if os.environ.get("GITHUB_EVENT_NAME") not in ("pull_request", "pull_request_target"):
        return None
    try:
        with open(os.environ.get("GITHUB_EVENT_PATH") or "", encoding="utf-8") as handle:
            event = json.load(handle)
        sha = str(event["pull_request"]["base"]["sha"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", "the event names no base commit"
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
        return "", "the event names no base commit"
    if _git("cat-file", "-e", f"{sha}^{{commit}}") is not None:
        return sha, ""
    parents = (_git("rev-list", "--parents", "-n", "1", "HEAD") or "").split()
    if len(parents) == 3 and _git("cat-file", "-e", f"{parents[1]}^{{commit}}") is not None:
        return parents[1], ""
    return "", (f"its base commit {sha[:12]} is not in the checkout; check out with fetch-depth: 2 (or 0) to see "
                "what the pull request changes in the configuration and the ignore comments")


def policy(inputs: Inputs) -> None:
    """``ci-tools policy BASE HEAD`` on a pull request: its notes annotated, its section in the job summary."""
    found = pull_request_base()
    if found is None:
        return
    base, why = found
    if not base:
        actionkit.annotate("warning", f"policy changes not compared: {why}", title="policy-change")
        actionkit.summary(f"### Policy changes\n\n⚠️ not compared: {actionkit.md_escape(why)}\n")
        return
    command = [inputs.python, "-I", str(LAUNCHER), "policy", base, "HEAD", "--format", "json", "--fail-level", "error"]
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        command += ["--summary", os.environ["GITHUB_STEP_SUMMARY"]]
    print(f"+ ci-tools policy {base[:12]} HEAD", flush=True)
    done = subprocess.run(command, capture_output=True, text=True, errors="replace")
    sys.stdout.write(done.stderr)
    try:
        notes = json.loads(done.stdout)["findings"] if done.returncode == 0 else None
    except (ValueError, KeyError, TypeError):
        notes = None
    if notes is None:
        last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "no message")
        raise actionkit.ActionFailure("tool-error", f"ci-tools policy stopped (exit {done.returncode}): {last}"[:400])
    prefix = _workspace_prefix(_git("rev-parse", "--show-toplevel") or os.getcwd())  # policy names paths from the root
    for note in notes:
        path, line, col, message = prefix + note["path"], note["line"], note["col"], note["message"]
        if inputs.format == "github":
            actionkit.annotate("notice", message, file=path, line=line, col=col, title="policy-change")
        else:
            print(f"{path}:{line}:{col}: {message} [policy-change]", flush=True)


def _workspace_prefix(directory: str = "") -> str:
    """Where ``directory`` (the working directory by default) sits in the workspace: SARIF and annotation
    paths are relative to the workspace root, ci-tools prints them relative to the working directory."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    rel = os.path.relpath(os.path.realpath(directory or os.getcwd()), os.path.realpath(workspace))
    return "" if rel == "." or rel.startswith("..") else rel.replace(os.sep, "/") + "/"


def _ci_tools(inputs: Inputs, args: list[str], output: Path) -> tuple[int, dict]:
    """Run one command writing SARIF to ``output``; exit 0 or 1 with a log, anything else is a failure."""
    if output.exists():
        output.unlink()
    # isolated (-I): the working directory is the caller's checkout, and nothing of it may be imported
    command = [inputs.python, "-I", str(LAUNCHER), *args, "--output", str(output)]
    print(f"+ ci-tools {' '.join(args)}", flush=True)
    done = subprocess.run(command, capture_output=True, text=True, errors="replace")
    sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "")
    name = args[0]
    if done.returncode == 2:
        raise actionkit.ActionFailure("invalid-input", f"ci-tools {name} rejected its arguments: {last}"[:400])
    if done.returncode not in (0, 1) or not output.is_file():
        raise actionkit.ActionFailure("tool-error", f"ci-tools {name} stopped (exit {done.returncode}): "
                                                    f"{last or 'no message'}"[:400])
    try:
        log = json.loads(output.read_text(encoding="utf-8"))
        log["runs"][0]["results"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise actionkit.ActionFailure("tool-error", f"ci-tools {name} wrote no readable SARIF log") from None
    return done.returncode, log


def merge(logs: list[dict], prefix: str = "") -> dict:
    """One SARIF log with one run: the rules of every log (by id, first wins) and all their results,
    ``ruleIndex`` renumbered and paths made relative to the workspace root. A result of the same rule at
    the same place as an earlier one (``verify`` repeats ``check``'s ``unpinned-uses``) is dropped: it
    would be the same code scanning alert."""
    base = json.loads(json.dumps(logs[0]))
    run = base["runs"][0]
    rules: list[dict] = []
    index: dict[str, int] = {}
    results: list[dict] = []
    seen: set[tuple] = set()
    for log in logs:
        for one in log.get("runs", []):
            for rule in one.get("tool", {}).get("driver", {}).get("rules", []):
                if rule.get("id") not in index:
                    index[rule["id"]] = len(rules)
                    rules.append(rule)
            for result in one.get("results", []):
                result = json.loads(json.dumps(result))
                if result.get("ruleId") in index:
                    result["ruleIndex"] = index[result["ruleId"]]
                for loc in result.get("locations", []):
                    artifact = loc.get("physicalLocation", {}).get("artifactLocation", {})
                    if prefix and "uri" in artifact and not artifact["uri"].startswith("/"):
                        artifact["uri"] = prefix + artifact["uri"]
                fingerprints = result.get("partialFingerprints", {})
                if prefix and "primaryLocationLineHash" in fingerprints:
                    check, _, rest = fingerprints["primaryLocationLineHash"].partition(":")
                    fingerprints["primaryLocationLineHash"] = f"{check}:{prefix}{rest}"
                place = (result.get("ruleId"), *_where(result))
                if place not in seen:
                    seen.add(place)
                    results.append(result)
    run["tool"]["driver"]["rules"] = rules
    run["results"] = results
    return base


def _where(result: dict) -> tuple[str, int, int]:
    for loc in result.get("locations", []):
        physical = loc.get("physicalLocation", {})
        region = physical.get("region", {})
        return (physical.get("artifactLocation", {}).get("uri", ""), int(region.get("startLine", 0)),
                int(region.get("startColumn", 0)))
    return "", 0, 0


def _print(results: list[dict], fmt: str) -> None:
    for result in results:
        path, line, col = _where(result)
        message = result.get("message", {}).get("text", "")
        rule = result.get("ruleId", "")
        if fmt == "github":
            actionkit.annotate(ANNOTATION.get(result.get("level", "warning"), "warning"), message, file=path,
                               line=line, col=col, title=rule)
        else:
            print(f"{path}:{line}:{col}: {message} [{rule}]", flush=True)


def summary(reports: list[tuple[str, dict, int]], results: list[dict], inputs: Inputs, reason: str) -> str:
    counts = {level: sum(1 for r in results if r.get("level") == level) for level in ("error", "warning", "note")}
    verdict = "failed" if reason else "passed"
    lines = [f"### ci-tools: {verdict}", ""]
    ran = " and ".join(f"`ci-tools {name}`{' (online)' if name == 'verify' and inputs.verify_online else ''}"
                    for name, _, _ in reports)
    lines.append(f"Ran {ran} with `--fail-level {inputs.fail_level}`"
                 f"{' on ' + ', '.join(f'`{p}`' for p in inputs.paths) if inputs.paths else ''}: "
                 f"{len(results)} finding{'s' * (len(results) != 1)} ({counts['error']} error"
                 f"{'s' * (counts['error'] != 1)}, {counts['warning']} warning{'s' * (counts['warning'] != 1)}, "
                 f"{counts['note']} note{'s' * (counts['note'] != 1)}).")
    if results:
        lines += ["", "| Severity | Check | Where | Message |", "|---|---|---|---|"]
        for result in results[:SUMMARY_ROWS]:
            path, line, col = _where(result)
            lines.append(f"| {result.get('level', '')} | `{result.get('ruleId', '')}` | "
                         f"`{_cell(path)}:{line}:{col}` | {actionkit.md_escape(result.get('message', {}).get('text', ''))} |")
        if len(results) > SUMMARY_ROWS:
            lines += ["", f"… and {len(results) - SUMMARY_ROWS} more in the log and the SARIF file."]
    if reason:
        lines += ["", f"**Failed** (`{reason}`): fix the findings above, or suppress one with "
                      "`# ci-tools: ignore[check-id] reason` on its line."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return re.sub(r"[`|\n\r]", "?", text)


if __name__ == "__main__":
    actionkit.main(run)
