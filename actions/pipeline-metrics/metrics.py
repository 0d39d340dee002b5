"""Step "metrics" of actions/pipeline-metrics: run ``ci-tools metrics`` and hand its results to the job.

Inputs come through the environment (``INPUT_*``, set from the action's inputs by ``env:``); they are
passed to ci-tools as separate arguments, never through a shell. ci-tools runs from this
repository's ``scripts/`` with the Python of the install step (``CI_TOOLS_PYTHON``), reads the token
from ``GITHUB_TOKEN`` and the collector's headers from ``OTEL_EXPORTER_OTLP_HEADERS``, and prints
neither. Its report goes to the job summary and to files under ``RUNNER_TEMP``; the outputs say how
many workflows are red and whether the alert was raised.

Failure reasons: ``invalid-input`` (ci-tools exit 2: the message names the input), ``metrics-failed``
(exit 3: the API or the collector), ``default-branch-red`` (exit 1 with ``fail-on-alert``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "_lib"))
import actionkit  # noqa: E402
import inputs  # noqa: E402

LAUNCHER = HERE.parent / "_lib" / "run_ci_tools.py"
ISSUE_LIMIT = 65536
WORDS = " \t,"  # repositories and rates: separated by spaces, commas or newlines


def command(python: str, md: Path, js: Path) -> list[str]:
    """``ci-tools metrics`` with the inputs as separate arguments; ci-tools checks their values and
    names the input it refuses (exit 2, ``invalid-input``)."""
    # -I and the launcher: nothing of the working directory or of PYTHON* variables is imported
    args = [python, "-I", str(LAUNCHER), "metrics", *inputs.items("repositories", separators=WORDS, comments=False)]
    if inputs.text("organisation"):
        args += ["--org", inputs.text("organisation")]
    args += ["--since", inputs.text("since", "30d"), "--output", str(md), "--json-output", str(js)]
    for workflow in inputs.items("workflows", separators=",", comments=False):
        args += ["--workflow", workflow]
    for branch in inputs.items("branches", separators=",", comments=False):
        args += ["--branch", branch]
    if inputs.text("alert-red-after"):
        args += ["--alert-red-after", inputs.text("alert-red-after")]
    if inputs.text("junit-artifacts"):
        args += ["--junit-artifacts", inputs.text("junit-artifacts")]
    for rate in inputs.items("rates", separators=WORDS, comments=False):
        args += ["--rate", rate]
    if inputs.text("otlp-endpoint"):
        args += ["--otlp-endpoint", inputs.text("otlp-endpoint")]
    cache = inputs.text("cache-dir")
    args += ["--cache-dir", cache] if cache else ["--no-cache"]
    return args


def cut_for_issue(markdown: str, limit: int = ISSUE_LIMIT - 200) -> str:
    """The report within an issue body's limit: cut on a line boundary, an open code fence closed."""
    if len(markdown) <= limit:
        return markdown
    kept = markdown[:limit].rsplit("\n", 1)[0]
    if kept.count("```") % 2:
        kept += "\n```"
    return kept + "\n\n*The report was cut here to fit an issue; the whole report is in the workflow run's summary.*\n"


def run() -> None:
    python = actionkit.env("CI_TOOLS_PYTHON") or sys.executable
    fail_on_alert = inputs.boolean("fail-on-alert", True)
    write_summary = inputs.boolean("summary", True)
    out_dir = Path(tempfile.mkdtemp(prefix="pipeline-metrics-", dir=os.environ.get("RUNNER_TEMP") or None))
    md, js = out_dir / "report.md", out_dir / "report.json"
    env = dict(os.environ, CI="true")
    for name in [k for k in env if k.startswith("INPUT_")]:
        env.pop(name)  # ci-tools needs none of them; the token goes as GITHUB_TOKEN only
    done = subprocess.run(command(python, md, js), env=env, capture_output=True, text=True, errors="replace")
    for line in done.stderr.splitlines():
        print(line)  # already redacted by ci-tools, one line each
    last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "no message")
    if done.returncode == 2:
        raise actionkit.ActionFailure("invalid-input", last.removeprefix("ci-tools metrics: "))
    if done.returncode not in (0, 1) or not js.is_file():
        raise actionkit.ActionFailure("metrics-failed", last.removeprefix("ci-tools metrics: error: "))
    report = json.loads(js.read_text(encoding="utf-8"))
    markdown = md.read_text(encoding="utf-8")
    if write_summary:
        actionkit.summary(markdown)
    alerts = report.get("alerts") or []
    message = "; ".join(f"{a['repository']}: workflow \"{a['workflow']}\" has failed on {a['branch']} for "
                        f"{a['hours']:g} h (since {a['since']}, {a['failing_runs']} runs, first: {a['first_failing_run']})"
                        for a in alerts)
    message = "".join(ch if ch.isprintable() else "?" for ch in message)[:2000]
    actionkit.set_output("report-file", md)
    actionkit.set_output("json-file", js)
    actionkit.set_output("report", cut_for_issue(markdown))
    actionkit.set_output("red", len(report.get("red") or []))
    actionkit.set_output("alert", "true" if alerts else "false")
    actionkit.set_output("alert-message", message)
    if alerts:
        if fail_on_alert:
            raise actionkit.ActionFailure("default-branch-red", message)
        actionkit.annotate("warning", message, title="default-branch-red")


if __name__ == "__main__":
    actionkit.main(run)
