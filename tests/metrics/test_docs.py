"""The docs of metrics stay true: every option and skip reason documented, every YAML example valid."""

from __future__ import annotations

import re
import subprocess

from ci_tools.cli import build_parser
from ci_tools.metrics.model import SKIP_REASONS
from support.paths import REPO

DOC = REPO / "docs" / "metrics.md"
EXAMPLES = [REPO / "actions/pipeline-metrics/README.md", REPO / "actions/issue-report/README.md", DOC]


def test_every_option_of_the_command_is_documented():
    parser = build_parser()
    metrics = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "metrics")[1]
    options = {o for action in metrics._actions for o in action.option_strings if o.startswith("--")}
    options -= {"--help", "--verbose"}
    text = DOC.read_text(encoding="utf-8")
    assert options and all(f"`{o}" in text for o in options), sorted(o for o in options if f"`{o}" not in text)


def test_every_skip_reason_is_documented_and_no_other():
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Skipped inputs", 1)[1]
    assert set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M)) == set(SKIP_REASONS)


def test_yaml_examples_pass_ci_tools_check(tmp_path, cli):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    blocks = [b for path in EXAMPLES for b in re.findall(r"^```yaml\n(.*?)^```", path.read_text(), re.M | re.S)]
    assert len(blocks) >= 2
    for n, block in enumerate(blocks):
        target = tmp_path / ".github" / "workflows" / f"example{n}.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block, encoding="utf-8")
    done = cli("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
