"""Malformed input never produces a traceback, a hang or a tool error: each case is one `syntax`
finding with path:line:col and exit status 1 (issue 2, item 5)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ci_tools.gha import source

BOMB = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))

CASES = {
    # name: (bytes, expected line, expected col, words in the message)
    "yaml-error": (b"on: push\njobs:\n  a: [\n", 4, 1, "YAML error"),
    "duplicate-key": (b"on: push\njobs: {}\non: pull_request\n", 3, 1, 'duplicate key "on" (first at line 1)'),
    "multi-document": (b"on: push\n---\non: pull_request\n", 2, 1, "more than one YAML document"),
    "empty": (b"", 1, 1, "file is empty"),
    "only-comments": (b"# nothing here\n", 1, 1, "holds no YAML document"),
    "invalid-utf8": (b"on: push\njobs:\n  a:\n    runs-on: ab\xff\n", 4, 16, "invalid UTF-8 byte 0xff"),
    "alias-bomb": (BOMB.encode(), 1, 1, "alias bomb"),
    "recursive-alias": (b"jobs: &x\n  a: *x\n", 1, 7, "recursive alias"),
    "control-character": (b'on: push\nname: "a\x01"\n', 2, 9, "control characters"),
    "tab-indentation": (b"on: push\njobs:\n\ta: 1\n", 3, 1, "YAML error"),
    "non-scalar-key": (b"on: push\njobs:\n  a:\n    runs-on: x\n    with:\n      {{ id }}: 1\n", 6, 7, "not a plain value"),
}


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / ".github" / "workflows" / f"{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_malformed_case_is_one_positioned_syntax_finding(name, repo_dir, cli):
    data, line, col, words = CASES[name]
    write(repo_dir, name, data)
    out = cli("check", "--no-actionlint", "--format", "json", f".github/workflows/{name}.yml", cwd=repo_dir, timeout=30)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and out.stderr == ""
    findings = [f for f in json.loads(out.stdout)["findings"] if f["check"] == "syntax"]
    assert len(findings) == 1, findings
    finding = findings[0]
    assert (finding["path"], finding["line"], finding["col"]) == (f".github/workflows/{name}.yml", line, col)
    assert words in finding["message"]


def test_bom_and_crlf_are_accepted_and_positions_stay_exact(repo_dir, cli):
    text = "on: push\r\npermissions: {}\r\njobs:\r\n  a:\r\n    runs-on: ubuntu-latest\r\n    timeout-minutes: 5\r\n" \
           "    steps:\r\n      - run: echo hi\r\n        shell: bash\r\n        bogus: 1\r\n"
    write(repo_dir, "crlf", b"\xef\xbb\xbf" + text.encode())
    out = cli("check", "--no-actionlint", "--format", "json", "--select", "schema", "--select", "syntax",
              ".github/workflows/crlf.yml", cwd=repo_dir)
    findings = json.loads(out.stdout)["findings"]
    assert [(f["check"], f["line"], f["col"]) for f in findings] == [("schema", 10, 9)]
    assert 'unexpected key "bogus"' in findings[0]["message"]


def test_file_over_the_size_cap_is_not_read(repo_dir, cli):
    write(repo_dir, "huge", b"on: push\n" + b"#" * (source.MAX_FILE_BYTES + 10) + b"\n")
    out = cli("check", "--no-actionlint", "--format", "json", ".github/workflows/huge.yml", cwd=repo_dir)
    (finding,) = json.loads(out.stdout)["findings"]
    assert finding["check"] == "syntax" and "over the" in finding["message"] and finding["line"] == 1


def test_symlink_leaving_the_repository_is_refused(repo_dir, tmp_path_factory, cli):
    outside = tmp_path_factory.mktemp("outside") / "secret.yml"
    outside.write_text("on: push\njobs: {}\n")
    link = repo_dir / ".github" / "workflows" / "link.yml"
    link.parent.mkdir(parents=True)
    os.symlink(outside, link)
    out = cli("check", "--no-actionlint", "--format", "json", cwd=repo_dir)
    (finding,) = json.loads(out.stdout)["findings"]
    assert finding["path"] == ".github/workflows/link.yml"
    assert "symbolic link leaves the repository" in finding["message"]


def test_symlink_inside_the_repository_is_followed(repo_dir, cli):
    real = write(repo_dir, "real", b"on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo, bogus: 1}]\n")
    os.symlink(real.name, real.parent / "alias.yml")
    out = cli("check", "--no-actionlint", "--format", "json", "--select", "schema", cwd=repo_dir)
    paths = sorted({f["path"] for f in json.loads(out.stdout)["findings"]})
    assert paths == [".github/workflows/alias.yml", ".github/workflows/real.yml"]


def test_invalid_properties_json_is_a_positioned_finding(repo_dir, cli):
    (repo_dir / "workflow-templates").mkdir()
    (repo_dir / "workflow-templates" / "t.yml").write_text("on: push\njobs: {}\n")
    (repo_dir / "workflow-templates" / "t.properties.json").write_text('{\n  "name": "x",\n  oops\n}\n')
    out = cli("check", "--no-actionlint", "--format", "json", "--select", "syntax", cwd=repo_dir)
    (finding,) = json.loads(out.stdout)["findings"]
    assert (finding["path"], finding["line"], finding["col"]) == ("workflow-templates/t.properties.json", 3, 3)
    assert finding["message"].startswith("invalid JSON")


def test_every_case_at_once_still_reports_them_all(repo_dir, cli):
    for name, (data, *_rest) in CASES.items():
        write(repo_dir, name, data)
    out = cli("check", "--no-actionlint", "--format", "json", cwd=repo_dir, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    syntax = {f["path"].rsplit("/", 1)[1][:-4] for f in json.loads(out.stdout)["findings"] if f["check"] == "syntax"}
    assert syntax == set(CASES)
