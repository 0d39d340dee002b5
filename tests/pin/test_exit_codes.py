"""Issue 12, item 11: one exit-code rule for the fixing commands (pin, update, docs), as STYLE.md and
the README state it: 0 when nothing needed changing, 1 when files were changed (or, with --diff or
--check, would be) or findings were reported, 2 usage error, 3 fatal error. `--help` says so."""

from __future__ import annotations

import pytest

from support.pinworld import write

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"


def test_pin_exits_1_when_it_changed_files_and_0_when_nothing_changed(cli, env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/a.yml", HEAD + "      - uses: acme/checkout@v4.1.0\n")
    before = wf.read_bytes()
    diff = cli("pin", "--diff", cwd=tmp_path, env=env)
    assert diff.returncode == 1 and wf.read_bytes() == before  # would change
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "pinned 1 reference in 1 file" in done.stderr
    again = cli("pin", cwd=tmp_path, env=env)
    assert again.returncode == 0 and again.stdout == ""
    assert cli("pin", "--diff", cwd=tmp_path, env=env).returncode == 0


def test_update_exits_1_when_it_moved_pins(cli, env, world, tmp_path):
    write(tmp_path / ".github/workflows/a.yml", HEAD + f"      - uses: acme/checkout@{world.sha['checkout v4.0.0']} # v4.0.0\n")
    assert cli("update", "--diff", cwd=tmp_path, env=env).returncode == 1
    assert cli("update", "--format", "json", cwd=tmp_path, env=env).returncode == 1
    again = cli("update", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr


def test_docs_exits_1_when_it_wrote_tables(cli, tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / "actions/x/action.yml", "name: x\ndescription: d\ninputs:\n  a:\n    description: an input\n"
          "runs:\n  using: composite\n  steps:\n    - run: 'true'\n      shell: bash\n")
    readme = write(tmp_path / "actions/x/README.md", "# x\n\n<!-- ci-tools-docs:inputs -->\n<!-- /ci-tools-docs:inputs -->\n\n"
                   "<!-- ci-tools-docs:outputs -->\n<!-- /ci-tools-docs:outputs -->\n")
    assert cli("docs", "--check", cwd=tmp_path).returncode == 1
    done = cli("docs", cwd=tmp_path)
    assert done.returncode == 1 and "`a`" in readme.read_text()
    assert cli("docs", cwd=tmp_path).returncode == 0
    assert cli("docs", "--check", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("command", ["pin", "update", "docs"])
def test_help_states_the_rule(cli, command):
    done = cli(command, "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "exit status: 0 when nothing" in text and "1 when files were changed" in text
