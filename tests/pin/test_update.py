"""`ci-tools update`: newest stable release within bounds, cooldown, --only, compare links, JSON."""

from __future__ import annotations

import json

from support.pinworld import write

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"


def test_moves_to_newest_stable_within_major(cli, env, api, world, tmp_path):
    old = world.sha["checkout v4.0.0"]
    wf = write(tmp_path / ".github/workflows/a.yml", HEAD + f"      - uses: acme/checkout@{old} # v4.0.0\n")
    api.per_page_max = 2  # five releases: three pages, all read
    done = cli("update", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr  # files changed
    new = world.sha["checkout v4.2.2"]  # not the draft v4.3.0, not the prerelease v5.0.0-beta.1
    assert wf.read_text().endswith(f"acme/checkout@{new} # v4.2.2\n")
    assert ("acme/checkout v4.0.0 -> v4.2.2" in done.stdout
            and "https://github.invalid/acme/checkout/compare/v4.0.0...v4.2.2" in done.stdout)
    assert api.count(r"/releases") == 3


def test_min_age_and_within_minor(cli, env, world, tmp_path):
    old = world.sha["checkout v4.0.0"]
    wf = write(tmp_path / ".github/workflows/a.yml", HEAD + f"      - uses: acme/checkout@{old} # v4.0.0\n")
    # v4.2.2 was published 10 days ago, v4.1.0 100 days ago: a 30-day cooldown stops at v4.1.0
    done = cli("update", "--min-age", "30", cwd=tmp_path, env=env)
    assert done.returncode == 1  # files changed
    assert wf.read_text().endswith(f"acme/checkout@{world.sha['checkout v4.1.0']} # v4.1.0\n")
    wf2 = write(tmp_path / ".github/workflows/b.yml", HEAD + f"      - uses: acme/checkout@{old} # v4.0.0\n")
    done = cli("update", "--within", "minor", str(wf2), cwd=tmp_path, env=env)
    assert done.returncode == 0 and wf2.read_text().endswith(f"acme/checkout@{old} # v4.0.0\n")


def test_only_json_and_no_move_when_current(cli, env, world, tmp_path):
    body = (HEAD + f"      - uses: acme/checkout@{world.sha['checkout v4.1.0']} # v4.1.0\n"
            f"      - uses: acme/codeql/init@{world.sha['codeql v3.27.0']} # v3.27.0\n"
            f"      - uses: acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2\n")
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("update", "--only", "acme/checkout", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr  # files changed
    report = json.loads(done.stdout)
    assert report["version"] == 1 and len(report["updates"]) == 1
    change = report["updates"][0]
    assert change["line"] == 6 and change["old"]["version"] == "v4.1.0" and change["new"]["version"] == "v4.2.2"
    assert change["new"]["ref"] == world.sha["checkout v4.2.2"]
    assert wf.read_text() == body.replace(f"{world.sha['checkout v4.1.0']} # v4.1.0", f"{world.sha['checkout v4.2.2']} # v4.2.2")


def test_within_any_crosses_majors_but_skips_prereleases(cli, env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/a.yml", HEAD + "      - uses: acme/checkout@v4.0.0\n")
    assert cli("update", "--within", "any", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert wf.read_text().endswith(f"acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2\n")


def test_diff_writes_nothing(cli, env, world, tmp_path):
    body = HEAD + f"      - uses: acme/checkout@{world.sha['checkout v4.0.0']} # v4.0.0\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("update", "--diff", cwd=tmp_path, env=env)
    assert done.returncode == 1 and wf.read_text() == body and "+      - uses: acme/checkout@" in done.stdout  # files changed


def test_update_names_the_releases_it_skipped_for_the_cooldown(cli, env, world, tmp_path):
    old = world.sha["checkout v4.0.0"]
    write(tmp_path / ".github/workflows/a.yml", HEAD + f"      - uses: acme/checkout@{old} # v4.0.0\n")
    done = cli("update", "--min-age", "30", cwd=tmp_path, env=env)
    assert done.returncode == 1  # moved to v4.1.0
    skipped = [line for line in done.stderr.splitlines() if "cooldown" in line]
    assert skipped == ["acme/checkout v4.2.2 was skipped for the cooldown: published 10 days ago, "
                       "--min-age is 30 days"]


def test_json_output_is_redacted_as_every_format_is(cli, env, world, tmp_path):
    """A token-shaped name in a ``uses:`` comes back in a finding's message: never in the output (issue 14)."""
    token = "ghp_" + "A1b2C3d4" * 5  # the shape of a personal access token, in a repository name
    write(tmp_path / ".github/workflows/a.yml", HEAD + f"      - uses: acme/{token}@v1.0.0\n")
    for fmt in ("text", "json"):
        done = cli("update", "--format", fmt, cwd=tmp_path, env=env)
        assert done.returncode == 1, done.stderr  # the reference could not be updated
        assert "acme/***@v1.0.0" in done.stdout + done.stderr and token not in done.stdout + done.stderr


def test_json_and_text_exit_alike_by_fail_level_and_configuration(cli, env, world, tmp_path):
    """One emit decides the exit code from the findings: a finding configured down to a note fails
    neither format, as it fails neither under --fail-level warning (issue 14)."""
    write(tmp_path / ".github/workflows/a.yml", HEAD + "      - uses: acme/not-there@v1.0.0\n")
    write(tmp_path / ".github/ci-tools.toml", '[checks.unresolved-ref]\nseverity = "note"\n')
    codes = {fmt: cli("update", "--format", fmt, "--root", str(tmp_path), cwd=tmp_path, env=env)
             for fmt in ("text", "json")}
    assert {fmt: done.returncode for fmt, done in codes.items()} == {"text": 0, "json": 0}, codes["json"].stderr
    [finding] = json.loads(codes["json"].stdout)["findings"]
    assert finding["check"] == "unresolved-ref" and finding["severity"] == "note"
    fails = cli("update", "--format", "json", "--fail-level", "note", "--root", str(tmp_path), cwd=tmp_path, env=env)
    assert fails.returncode == 1
