"""Every fixture folder under tests/lint/fixtures/<check-id>/ runs through that one check: each bad file
yields exactly the lines of its .expected file, each ok file yields no finding of the check.

Set ``CI_TOOLS_UPDATE_FIXTURES=1`` to (re)write the .expected files from the current output; review
the diff before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support.fixtures import FIXTURES, fixture_config, fixture_entries, run_fixture, text_lines

UPDATE = os.environ.get("CI_TOOLS_UPDATE_FIXTURES") == "1"


def _cases(kind: str):
    for check_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for entry in fixture_entries(check_dir, kind):
            yield pytest.param(check_dir.name, entry, id=f"{check_dir.name}/{kind}/{entry.name}")


def _only(check_id: str) -> set[str]:
    return set() if check_id == "syntax" else {check_id}  # syntax findings come from loading alone


@pytest.mark.parametrize(("check_id", "entry"), list(_cases("bad")))
def test_bad_fixture_yields_expected_findings(check_id: str, entry: Path):
    findings, _ = run_fixture(entry, _only(check_id), fixture_config(FIXTURES / check_id))
    if check_id != "syntax":
        assert [f for f in findings if f.check == "syntax"] == [], "a fixture must parse"
    got = text_lines(findings, check_id)
    expected_file = entry.with_name(entry.name + ".expected")
    if UPDATE:
        expected_file.write_text("".join(line + "\n" for line in got), encoding="utf-8")
    assert expected_file.is_file(), f"{expected_file.name} is missing"
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert got, "a bad fixture must yield at least one finding"
    assert got == expected


@pytest.mark.parametrize(("check_id", "entry"), list(_cases("ok")))
def test_ok_fixture_yields_no_finding(check_id: str, entry: Path):
    findings, _ = run_fixture(entry, _only(check_id), fixture_config(FIXTURES / check_id))
    assert text_lines(findings, check_id) == []
    assert [f for f in findings if f.check == "syntax"] == []


def test_every_fixture_folder_has_ok_and_bad_cases():
    for check_dir in (p for p in FIXTURES.iterdir() if p.is_dir()):
        assert fixture_entries(check_dir, "ok"), f"{check_dir.name} has no ok fixture"
        assert fixture_entries(check_dir, "bad"), f"{check_dir.name} has no bad fixture"
        for expected in (check_dir / "bad").glob("*.expected"):
            assert expected.with_name(expected.name[: -len(".expected")]).exists(), f"{expected} has no fixture"


def test_cli_output_equals_the_engine_on_a_fixture(cli, tmp_path: Path):
    """The command line, run as a user runs it, prints the same findings as the fixture runner."""
    entry = FIXTURES / "template-injection" / "bad" / "issue-title.yml"
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".github").mkdir()
    (repo / ".github" / "ci-tools.toml").write_text('repository = "org/ci"\n', encoding="utf-8")
    shutil.copy(entry, repo / entry.name)
    out = cli("check", "--select", "template-injection", "--no-actionlint", "--format", "json", entry.name, cwd=repo)
    assert out.returncode == 1, out.stderr
    got = [f"{f['path']}:{f['line']}:{f['col']}: {f['message']} [{f['check']}]"
           for f in json.loads(out.stdout)["findings"]]
    assert got == entry.with_name(entry.name + ".expected").read_text(encoding="utf-8").splitlines()
