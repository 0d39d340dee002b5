"""This repository follows its own rules: `ci-tools check` and `zizmor --offline` find nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.paths import REPO

ZIZMOR = Path(sys.executable).parent / "zizmor"


def test_ci_tools_check_is_clean_on_this_repository(cli):
    out = cli("check", "--format", "json", cwd=REPO, timeout=300)
    findings = json.loads(out.stdout)["findings"] if out.stdout.strip() else []
    assert findings == [] and out.returncode == 0, out.stdout + out.stderr


def test_zizmor_offline_is_clean_on_this_repository():
    targets = [p for p in (".github", "actions", "workflow-templates") if (REPO / p).is_dir()]
    out = subprocess.run([str(ZIZMOR), "--offline", "--format", "json", "--no-progress", *targets], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 14) or out.stdout.strip(), out.stderr  # 14 = findings
    findings = json.loads(out.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:4000]


def test_shell_scripts_pass_shellcheck():
    """The scripts beside the actions (and CI's entry point) are shell too; actionlint only sees `run:`."""
    scripts = sorted(str(p.relative_to(REPO)) for p in (REPO / "actions").rglob("*.sh")) + [".ci/run"]
    shellcheck = Path(sys.executable).parent / "shellcheck"
    out = subprocess.run([str(shellcheck), "--format", "gcc", *scripts], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert len(scripts) >= 3
