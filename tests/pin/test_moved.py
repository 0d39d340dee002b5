"""Issue 12, items 1 and 2: a moved full release tag is an error that `pin` never papers over, and
GitHub's immutable releases are shown per pinned version, a moved tag of one being an alarm."""

from __future__ import annotations

import json

from support.pinworld import write

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"


def _findings(done) -> list[dict]:
    return json.loads(done.stdout)["findings"]


def test_verify_online_reports_a_moved_full_tag_beside_a_floating_one(cli, env, world, tmp_path):
    pinned, now = world.sha["moved v1.0.0"], world.sha["moved v1.0.0 now"]
    write(tmp_path / ".github/workflows/a.yml", HEAD + f"      - uses: acme/moved@{pinned} # v1.0.0\n")
    done = cli("verify", "--online", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    found = _findings(done)
    assert [(f["line"], f["check"], f["severity"]) for f in found] == [(6, "tag-moved", "error")]
    assert found[0]["message"] == (  # what is still on the pin, and what to do
        f'the release tag "v1.0.0" of "acme/moved" points to {now[:12]}, not to the pinned {pinned[:12]} (which '
        'carries "v1"): the tag was moved, or the comment names the wrong release; review what changed between the '
        "two commits, then pin the one you reviewed with its own tag (`ci-tools pin` will not rewrite this comment)")


def test_pin_refuses_to_rewrite_the_comment_of_a_moved_full_tag(cli, env, world, tmp_path):
    body = HEAD + f"      - uses: acme/moved@{world.sha['moved v1.0.0']} # v1.0.0\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    assert [(f["line"], f["check"]) for f in _findings(done)] == [(6, "tag-moved")]
    assert wf.read_text() == body  # not "# v1": that would hide the move from verify
    done = cli("verify", "--online", "--format", "json", cwd=tmp_path, env=env)
    assert [f["check"] for f in _findings(done)] == ["tag-moved"]


def test_a_floating_tag_moving_on_is_normal(cli, env, world, tmp_path):
    # v4 moved from v4.0.0's commit to v4.2.2's: a pin of v4.0.0 is still exact and verified
    body = HEAD + f"      - uses: acme/checkout@{world.sha['checkout v4.0.0']} # v4.0.0\n"
    write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("verify", "--online", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cli("pin", cwd=tmp_path, env=env).returncode == 0


def test_verify_online_shows_immutability_per_pinned_version(cli, env, world, tmp_path):
    c = world.sha
    write(tmp_path / ".github/workflows/a.yml", HEAD +
          f"      - uses: acme/checkout@{c['checkout v4.2.2']} # v4.2.2\n"
          f"      - uses: acme/checkout@{c['checkout v4.2.2']} # v4.2.2\n"
          f"      - uses: acme/checkout@{c['checkout v4.1.0']} # v4.1.0\n"
          f"      - uses: acme/checkout@{c['checkout v4.0.0']} # v4.0.0\n"
          f"      - uses: acme/codeql/init@{c['codeql v3.27.0']} # v3.27.0\n")
    done = cli("verify", "--online", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.strip() for line in done.stderr.splitlines()]
    assert f"acme/checkout v4.2.2 ({c['checkout v4.2.2'][:12]}): immutable release" in lines
    assert f"acme/checkout v4.1.0 ({c['checkout v4.1.0'][:12]}): release not immutable, its tag can be moved" in lines
    assert f"acme/checkout v4.0.0 ({c['checkout v4.0.0'][:12]}): release immutability unknown (the server does not say)" in lines
    assert f"acme/codeql v3.27.0 ({c['codeql v3.27.0'][:12]}): no release for this tag" in lines
    assert sum("acme/checkout v4.2.2" in line for line in lines) == 1  # per version, not per line


def test_a_moved_tag_of_an_immutable_release_is_an_alarm_no_comment_can_silence(cli, env, world, tmp_path):
    pinned = world.sha["sealed v2.0.0"]
    body = HEAD + (f"      - uses: acme/sealed@{pinned} # v2.0.0\n"
                   f"      - uses: acme/sealed@{pinned} # v2.0.0 # ci-tools: ignore[tag-moved] upstream re-tagged\n")
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    write(tmp_path / ".github/ci-tools.toml", '[checks.tag-moved]\nseverity = "note"\n')
    done = cli("verify", "--online", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    found = [f for f in _findings(done) if f["check"] == "tag-moved"]
    assert [(f["line"], f["severity"]) for f in found] == [(6, "error"), (7, "error")]
    now = world.sha["sealed v2.0.0 now"]
    assert {f["message"] for f in found} == {
        f'the comment names "v2.0.0" of "acme/sealed", an immutable release whose tag GitHub never lets move, yet '
        f"that tag points to {now[:12]}, not to the pinned {pinned[:12]} (which carries \"v2\"): either the comment "
        "names the wrong release, or the repository was deleted and re-created under this name, or the answer was "
        "tampered with on its way; do not run this action until it is explained"}
    done = cli("pin", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1 and wf.read_text() == body
    assert [(f["line"], f["severity"]) for f in _findings(done) if f["check"] == "tag-moved"] == [(6, "error"),
                                                                                                   (7, "error")]


def test_report_online_shows_immutable_and_moved(cli, env, world, tmp_path):
    c = world.sha
    write(tmp_path / ".github/workflows/a.yml", HEAD +
          f"      - uses: acme/checkout@{c['checkout v4.2.2']} # v4.2.2\n"
          f"      - uses: acme/checkout@{c['checkout v4.1.0']} # v4.1.0\n"
          f"      - uses: acme/moved@{c['moved v1.0.0']} # v1.0.0\n"
          f"      - uses: acme/codeql/init@{c['codeql v3.27.0']} # v3.27.0\n")
    done = cli("report", "--online", "--depth", "0", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    deps = {(d["name"], d["version"]): d for d in json.loads(done.stdout)["dependencies"]}
    assert deps[("acme/checkout", "v4.2.2")]["immutable"] is True
    assert deps[("acme/checkout", "v4.1.0")]["immutable"] is False
    assert deps[("acme/codeql/init", "v3.27.0")]["immutable"] is None
    assert deps[("acme/moved", "v1.0.0")]["status"] == "tag-moved"
    markdown = cli("report", "--online", "--depth", "0", cwd=tmp_path, env=env).stdout
    assert "| Immutable |" in markdown


def test_the_immutability_lines_skip_what_names_no_pinned_version_and_go_on(cli, env, world, tmp_path):
    """A branch ref, a repository the server does not have and a pin without a version comment come
    first: none has a line, and the pins after them still do."""
    c = world.sha
    write(tmp_path / ".github/workflows/a.yml", HEAD +
          "      - uses: acme/checkout@v4\n"
          f"      - uses: acme/nowhere@{c['checkout v4.2.2']} # v1.0.0\n"
          f"      - uses: acme/checkout@{c['checkout v4.1.0']}\n"
          f"      - uses: acme/checkout@{c['checkout v4.2.2']} # v4.2.2\n")
    done = cli("verify", "--online", cwd=tmp_path, env=env)
    assert done.stderr.splitlines() == ["ci-tools verify: releases of the pinned versions:",
                                        f"  acme/checkout v4.2.2 ({c['checkout v4.2.2'][:12]}): immutable release"]
