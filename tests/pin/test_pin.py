"""`ci-tools pin` against the GitHub API double: ref shapes, format preservation, request counts."""

from __future__ import annotations

import json
import os
import stat

from support.pinworld import TOKEN, write

WORKFLOW = """\
name: ci
on: push
jobs:
  call:
    uses: acme/checkout/.github/workflows/reusable.yml@v4.1.0
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/checkout@v4
      - uses: "acme/checkout@v4.0.0"   # zizmor: ignore[unpinned-uses] reviewed
      - uses: 'acme/codeql/init@v3'
      - {name: flow, uses: acme/nested@v2.0.0}
      - uses: ./local/action
      - uses: $/actions/ours
      - uses: ${{ matrix.action }}
      - uses: docker://alpine:3.20
"""


def pinned(world, key: str) -> str:
    return world.sha[key]


def test_pins_every_ref_shape_and_keeps_everything_else(cli, env, api, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml", WORKFLOW)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # files changed
    c = world.sha
    assert wf.read_text() == f"""\
name: ci
on: push
jobs:
  call:
    uses: acme/checkout/.github/workflows/reusable.yml@{c['checkout v4.1.0']} # v4.1.0
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/checkout@{c['checkout v4.2.2']} # v4.2.2
      - uses: "acme/checkout@{c['checkout v4.0.0']}"   # v4.0.0 # zizmor: ignore[unpinned-uses] reviewed
      - uses: 'acme/codeql/init@{c['codeql v3.27.0']}' # v3.27.0
      - {{name: flow, uses: acme/nested@{c['nested v2.0.0']}}} # v2.0.0
      - uses: ./local/action
      - uses: $/actions/ours
      - uses: ${{{{ matrix.action }}}}
      - uses: docker://alpine:3.20
"""
    # per repository, not per occurrence: tags + branches for each of the three repositories
    assert api.count(r"/tags(\?|$)") == 3 and api.count(r"/branches(\?|$)") == 3
    assert api.count() == 6
    assert "pinned 5 references in 1 file" in done.stderr


def test_second_run_changes_nothing_and_makes_no_request(cli, env, api, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml", WORKFLOW)
    assert cli("pin", cwd=tmp_path, env=env).returncode == 1  # files changed
    once = wf.read_bytes()
    api.reset_log()
    again = cli("pin", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert wf.read_bytes() == once
    assert api.count() == 0
    # --cache-ttl 0 trusts no cached ref (issue 12): the tags of pinned commits are read again
    again = cli("pin", "--cache-ttl", "0", cwd=tmp_path, env=env)
    assert wf.read_bytes() == once and api.count() == 6
    api.reset_log()
    # without the cache the pinned file is re-checked (one tags and one branches request per repository)
    again = cli("pin", "--no-cache", cwd=tmp_path, env=env)
    assert wf.read_bytes() == once and api.count() == 6


def test_many_files_cost_the_same_as_one(cli, env, api, tmp_path):
    for i in range(25):
        write(tmp_path / f".github/workflows/w{i}.yml",
              "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4\n"
              "      - uses: acme/checkout@v4.1.0\n")
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr  # files changed
    assert api.count() == 2
    assert "pinned 50 references in 25 files" in done.stderr


def test_crlf_bom_mode_and_missing_final_newline_are_kept(cli, env, world, tmp_path):
    text = "\ufeffon: push\r\njobs:\r\n  a:\r\n    runs-on: x\r\n    steps:\r\n      - uses: acme/checkout@v4.1.0"
    wf = write(tmp_path / ".github/workflows/ci.yml", text, mode=0o750)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr  # files changed
    expected = text.replace("@v4.1.0", f"@{world.sha['checkout v4.1.0']} # v4.1.0")
    assert wf.read_bytes() == expected.encode("utf-8")
    assert stat.S_IMODE(wf.stat().st_mode) == 0o750


def test_composite_action_steps_are_pinned(cli, env, world, tmp_path):
    action = write(tmp_path / "actions/x/action.yml",
                   "name: x\nruns:\n  using: composite\n  steps:\n    - uses: acme/codeql/init@v3 # init\n")
    assert cli("pin", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert action.read_text().endswith(f"acme/codeql/init@{world.sha['codeql v3.27.0']} # v3.27.0 # init\n")


def test_same_action_at_two_versions_in_one_file(cli, env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4.0.0\n"
               "      - uses: acme/checkout@v4.1.0\n")
    assert cli("pin", cwd=tmp_path, env=env).returncode == 1  # files changed
    text = wf.read_text()
    assert f"@{world.sha['checkout v4.0.0']} # v4.0.0\n" in text
    assert f"@{world.sha['checkout v4.1.0']} # v4.1.0\n" in text


def test_annotated_and_tag_of_tag_peel_to_the_commit(cli, env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/nested@v2.0.0\n"
               "      - uses: acme/checkout@v4.2.2\n")
    assert cli("pin", cwd=tmp_path, env=env).returncode == 1  # files changed
    text = wf.read_text()
    assert world.sha["nested v2.0.0"] in text and world.tag_object["nested v2.0.0"] not in text
    assert world.sha["checkout v4.2.2"] in text and world.tag_object["checkout v4.2.2"] not in text


def test_a_pinned_tag_object_is_reported_and_peeled(cli, env, api, world, tmp_path):
    obj = world.tag_object["checkout v4.2.2"]
    wf = write(tmp_path / ".github/workflows/ci.yml",
               f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@{obj} # v4.2.2\n")
    done = cli("pin", "--fail-level", "note", cwd=tmp_path, env=env)
    assert done.returncode == 1  # the note is reported
    assert "[tag-object]" in done.stdout and "annotated tag object" in done.stdout
    assert wf.read_text().endswith(f"acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2\n")
    assert api.count(r"/git/tags/") == 1


def test_stale_missing_and_partial_comments_are_fixed(cli, env, world, tmp_path):
    sha = world.sha["checkout v4.2.2"]
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
               f"      - uses: acme/checkout@{sha} # v4.0.9\n"
               f"      - uses: acme/checkout@{sha}\n"
               f"      - uses: acme/checkout@{sha} # v4\n"
               f"      - uses: acme/checkout@{sha} # keep this note\n"
               f"      - uses: acme/checkout@{sha} # v4.2.2\n"
               f"      - uses: acme/checkout@{sha} # v4.0.0\n")
    done = cli("pin", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1  # files changed, and the last line is refused
    lines = wf.read_text().splitlines()[-6:]
    assert lines == [f"      - uses: acme/checkout@{sha} # v4.2.2"] * 3 + [
        f"      - uses: acme/checkout@{sha} # v4.2.2 # keep this note",
        f"      - uses: acme/checkout@{sha} # v4.2.2",
        # v4.0.0 is a full version tag on another commit: moved, or a wrong comment; never rewritten away
        f"      - uses: acme/checkout@{sha} # v4.0.0"]
    assert [(f["line"], f["check"]) for f in json.loads(done.stdout)["findings"]] == [(11, "tag-moved")]


def test_refusals_are_findings_and_other_refs_are_still_pinned(cli, env, world, tmp_path):
    body = ("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
            "      - uses: acme/checkout@main\n"
            "      - uses: acme/clash@v1\n"
            "      - uses: acme/checkout@v9.9.9\n"
            "      - uses: acme/nothere@v1\n"
            "      - uses: acme/secret@v1.0.0\n"
            "      - uses: acme/checkout@v4.1.0\n")
    wf = write(tmp_path / ".github/workflows/ci.yml", body)
    done = cli("pin", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    got = {(f["line"], f["check"]) for f in report["findings"]}
    lines = {line for line, _ in got}
    assert lines == {6, 7, 8, 9, 10}
    text = json.dumps(report)
    assert "--allow-branches" in text and "both a branch and a tag" in text
    assert "set GITHUB_TOKEN" in text
    assert wf.read_text() == body.replace("@v4.1.0\n", f"@{world.sha['checkout v4.1.0']} # v4.1.0\n")


def test_allow_branches_pins_with_the_branch_name(cli, env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@main\n")
    assert cli("pin", "--allow-branches", cwd=tmp_path, env=env).returncode == 1  # files changed
    once = wf.read_text()
    assert once.endswith(f"acme/checkout@{world.sha['checkout main']} # main\n")
    assert cli("pin", "--allow-branches", cwd=tmp_path, env=env).returncode == 0
    assert wf.read_text() == once


def test_private_repository_with_token_and_the_token_is_never_printed(cli, env, api, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/secret@v1.0.0\n"
               "      - uses: acme/nothere@v1\n")
    done = cli("pin", "--verbose", cwd=tmp_path, env={**env, "GITHUB_TOKEN": TOKEN})
    assert done.returncode == 1  # acme/nothere
    assert world.sha["secret v1.0.0"] in wf.read_text()
    assert TOKEN not in done.stdout + done.stderr
    assert f"Bearer {TOKEN}" in api.auth_seen
    assert "or the token cannot read it" in done.stdout


def test_diff_prints_and_writes_nothing(cli, env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4.1.0\n")
    before = wf.read_bytes()
    done = cli("pin", "--diff", cwd=tmp_path, env=env)
    assert done.returncode == 1  # files changed
    assert wf.read_bytes() == before
    assert done.stdout.startswith("--- a/.github/workflows/ci.yml\n+++ b/.github/workflows/ci.yml\n")
    assert f"+      - uses: acme/checkout@{world.sha['checkout v4.1.0']} # v4.1.0\n" in done.stdout


def test_pagination_reads_every_page_of_tags(cli, env, api, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/many@v1.0.0\n")
    assert cli("pin", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert world.sha["many v1.0.0"] in wf.read_text()
    assert api.count(r"/repos/acme/many/tags") == 3  # 230 tags, 100 a page, following Link headers


def test_bad_yaml_is_reported_and_other_files_pinned(cli, env, world, tmp_path):
    write(tmp_path / ".github/workflows/bad.yml", "on: [push\n")
    good = write(tmp_path / ".github/workflows/good.yml",
                 "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4.1.0\n")
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "[syntax]" in done.stdout and "Traceback" not in done.stderr
    assert world.sha["checkout v4.1.0"] in good.read_text()


def test_usage_errors(cli, env, tmp_path):
    done = cli("pin", "--git-url-template", "x/{owner}/{repo}", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "--via git" in done.stderr
    done = cli("pin", "nowhere.yml", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "no such file" in done.stderr


def test_file_is_written_atomically_with_no_temp_left(cli, env, tmp_path):
    write(tmp_path / ".github/workflows/ci.yml",
          "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4.1.0\n")
    assert cli("pin", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert sorted(os.listdir(tmp_path / ".github/workflows")) == ["ci.yml"]


def test_tag_of_tag_object_is_peeled_through_the_chain_once(cli, env, api, world, tmp_path):
    obj = world.tag_object["nested v2.0.0"]  # a tag object pointing at another tag object
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
               f"      - uses: acme/nested@{obj}\n      - uses: acme/nested@{obj} # v2.0.0\n")
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # the tag-object finding is a note
    assert wf.read_text().count(f"acme/nested@{world.sha['nested v2.0.0']} # v2.0.0\n") == 2
    assert api.count(r"/git/tags/") == 2  # outer tag, inner tag: once for both lines


def test_untagged_commit_is_left_with_a_note(cli, env, world, tmp_path):
    body = ("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
            f"      - uses: acme/checkout@{world.fork_commit}\n")
    wf = write(tmp_path / ".github/workflows/ci.yml", body)
    done = cli("pin", "--fail-level", "note", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "[untagged-pin]" in done.stdout
    assert wf.read_text() == body
    assert cli("pin", cwd=tmp_path, env=env).returncode == 0  # pinned: not a refusal


def test_cache_ttl_and_no_cache(cli, env, api, tmp_path):
    write(tmp_path / ".github/workflows/ci.yml",
          "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4\n")
    cache = tmp_path / "cache"
    assert cli("pin", "--diff", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert api.count() == 2 and (cache / "ci-tools").is_dir()  # $XDG_CACHE_HOME/ci-tools
    assert cli("pin", "--diff", cwd=tmp_path, env=env).returncode == 1
    assert api.count() == 2  # tags and branches served from the cache
    assert cli("pin", "--diff", "--cache-ttl", "0", cwd=tmp_path, env=env).returncode == 1
    assert api.count() == 4  # expired: fetched again
    other = tmp_path / "other-cache"
    assert cli("pin", "--diff", "--no-cache", "--cache-dir", str(other), cwd=tmp_path, env=env).returncode == 1
    assert api.count() == 6 and not other.exists()


def test_repositories_are_resolved_concurrently_on_a_bounded_pool(cli, env, api, tmp_path):
    api.latency = 0.3  # long enough for requests to overlap when they can
    write(tmp_path / ".github/workflows/ci.yml",
          "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n" + "".join(
              f"      - uses: acme/{name}@{ref}\n" for name, ref in
              [("checkout", "v4"), ("nested", "v2.0.0"), ("codeql", "v3"), ("many", "v1.0.1"), ("comp", "v1.0.0")]))
    assert cli("pin", "--jobs", "3", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert api.max_in_flight == 3
    assert api.count() == 12  # two per repository, and acme/many has three pages of tags


def test_aliased_steps_are_rewritten_once_and_comment_prefixes_kept(cli, env, world, tmp_path):
    wf = write(tmp_path / ".github/workflows/ci.yml",
               "on: push\njobs:\n  a:\n    runs-on: x\n    steps: &s\n      - uses: acme/checkout@v4 # tag=v4\n"
               "  b:\n    runs-on: x\n    steps: *s\n")
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "pinned 1 reference in 1 file" in done.stderr  # files changed
    assert f"acme/checkout@{world.sha['checkout v4.2.2']} # tag=v4.2.2\n" in wf.read_text()
