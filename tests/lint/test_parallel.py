"""A large input is checked on two processes (ci_tools.lint.parallel): the result is the serial one, byte for byte.

The repository built here has enough files to fork (parallel.MIN_FILES), with findings in both
halves, a reusable workflow whose callers sit in the other half (the cross-file `workflow-call`
check needs trees the child dropped) and ignore comments.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ci_tools.core.config import load_config
from ci_tools.lint import checks, engine, parallel

REUSABLE = """on:
  workflow_call:
    inputs:
      target:
        type: string
        required: true
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo building
"""

CALLER = """on: push
permissions: {{}}
jobs:
  call:
    uses: ./.github/workflows/reusable.yml
    with:
      {key}: x
"""

STEP = """on: pull_request_target
permissions: write-all
jobs:
  job:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4{ignore}
      - run: echo "${{{{ github.event.pull_request.title }}}}"
"""


def build(root: Path, count: int) -> None:
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "reusable.yml").write_text(REUSABLE)
    for i in range(count):
        if i % 3 == 0:
            text = CALLER.format(key="target" if i % 2 else "tagret")
        elif i % 3 == 1:
            ignore = "  # ci-tools: ignore[unpinned-uses] tested elsewhere" if i % 2 else ""
            text = STEP.format(ignore=ignore)
        else:
            text = "on: push\njobs:\n  broken: [\n"  # a syntax error
        (workflows / f"w{i:03}.yml").write_text(text)


def test_two_processes_give_the_serial_result(cli, tmp_path):
    build(tmp_path, parallel.MIN_FILES + 20)
    (tmp_path / ".git").mkdir()
    args = ("check", "--no-actionlint", "--format", "json")
    forked = cli(*args, cwd=tmp_path)
    serial = cli(*args, cwd=tmp_path, env={"CI_TOOLS_JOBS": "1"})
    assert forked.returncode == serial.returncode == 1, forked.stderr + serial.stderr
    assert forked.stdout == serial.stdout
    found = {f["check"] for f in json.loads(forked.stdout)["findings"]}
    assert {"syntax", "workflow-call", "unpinned-uses", "template-injection", "excessive-permissions"} <= found
    text = cli("check", "--no-actionlint", cwd=tmp_path)
    assert text.stdout == cli("check", "--no-actionlint", cwd=tmp_path, env={"CI_TOOLS_JOBS": "1"}).stdout


def _serial(files, root, ctx):
    findings, docs = engine.per_document(engine.iter_documents(files, root), ctx, None)
    return sorted(f.sort_key() for f in findings), [d.display for d in docs]


def test_the_child_returns_findings_and_reparses_the_kept_trees(tmp_path):
    build(tmp_path, 30)
    files = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    ctx = checks.Context(root=tmp_path, config=load_config(tmp_path, None, known_ids=checks.known_ids()), documents=[])
    half = parallel.Half(files, tmp_path, ctx, None)
    assert half.pid > 0  # really forked
    findings, docs = half.join()
    assert (sorted(f.sort_key() for f in findings), [d.display for d in docs]) == _serial(files, tmp_path, ctx)
    reusable = next(d for d in docs if d.path.name == "reusable.yml")
    assert reusable.root is not None  # kept for workflow-call, so parsed again here
    assert all(d.root is None for d in docs if d.path.name.startswith("w") and d.text.startswith("on: push\njobs"))


def test_a_failing_child_makes_the_parent_do_the_work(tmp_path, monkeypatch):
    build(tmp_path, 12)
    files = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    ctx = checks.Context(root=tmp_path, config=load_config(tmp_path, None, known_ids=checks.known_ids()), documents=[])
    parent = os.getpid()
    real = engine.per_document

    def crash_in_child(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "per_document", crash_in_child)
    half = parallel.Half(files, tmp_path, ctx, None)
    assert half.pid > 0
    findings, docs = half.join()
    assert (sorted(f.sort_key() for f in findings), [d.display for d in docs]) == _serial(files, tmp_path, ctx)


def test_split_and_merge_keep_the_order():
    files = [Path(f"f{i}") for i in range(7)]
    ours, theirs = parallel.split(files)
    assert parallel.merge(ours, theirs) == files


def test_small_inputs_and_one_job_stay_in_one_process(monkeypatch):
    assert not parallel.eligible([Path("a.yml")] * (parallel.MIN_FILES - 1))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert parallel.eligible([Path("a.yml")] * parallel.MIN_FILES)
    assert not parallel.eligible([Path("a.yml")] * parallel.MIN_FILES, linter=True)  # actionlint takes a core
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert parallel.eligible([Path("a.yml")] * parallel.MIN_FILES, linter=True)
    monkeypatch.setenv("CI_TOOLS_JOBS", "1")
    assert not parallel.eligible([Path("a.yml")] * parallel.MIN_FILES)
