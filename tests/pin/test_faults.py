"""Network faults: bounded retries that succeed, and failures that leave every file byte-identical."""

from __future__ import annotations

import pytest

from support.github_api import refused_url
from support.pinworld import write

BODY = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4.1.0\n"
OTHER = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/codeql/init@v3\n"


def files(tmp_path):
    return [write(tmp_path / ".github/workflows/a.yml", BODY), write(tmp_path / ".github/workflows/b.yml", OTHER)]


@pytest.mark.parametrize("kind,value", [("500", 1), ("429", 1), ("403-ratelimit", 1), ("truncate", 1),
                                        ("timeout", 3)])
def test_transient_faults_are_retried(cli, env, api, world, tmp_path, kind, value):
    a, _ = files(tmp_path)
    api.fail(r"/repos/acme/checkout/tags", kind, times=2, value=value)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # files changed
    assert world.sha["checkout v4.1.0"] in a.read_text()
    assert api.count(r"/repos/acme/checkout/tags") == 3  # two faults, then the answer
    assert api.count() == 6


def test_persistent_server_error_writes_nothing_and_exits_3(cli, env, api, tmp_path):
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    api.fail(r"/repos/acme/codeql/branches", "500", times=100)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 3
    assert [p.read_bytes() for p in paths] == before
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "failed after 5 attempts" in lines[0] and "HTTP 500" in lines[0]
    assert "no file was changed" in lines[0] and "check its status" in lines[0]
    assert api.count(r"/repos/acme/codeql/branches") == 5  # bounded


def test_rate_limit_reset_far_away_fails_at_once(cli, env, api, tmp_path):
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    api.fail(r"/tags", "403-ratelimit", times=100, value=3600)
    done = cli("pin", cwd=tmp_path, env={**env, "GITHUB_TOKEN": "ghp_" + "x" * 36})
    assert done.returncode == 3
    assert "rate limit" in done.stderr and "resets at" in done.stderr and "ghp_" not in done.stderr
    assert [p.read_bytes() for p in paths] == before
    assert api.count(r"/tags") <= 2  # no retry storm: one per repository


def test_retry_after_too_long_fails_with_one_line(cli, env, api, tmp_path):
    files(tmp_path)
    api.fail(r"/tags", "429", times=100, value=10_000)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 3 and len(done.stderr.strip().splitlines()) == 1
    assert "set GITHUB_TOKEN" in done.stderr


@pytest.mark.parametrize("command", [("pin",), ("verify", "--online"), ("update",), ("report", "--online")])
def test_a_refused_connection_fails_at_once_naming_the_url_and_what_to_check(cli, env, tmp_path, command):
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    with refused_url() as url:
        # a retry would wait 1000 s (and the run time out): a refusal is never retried
        done = cli(*command, cwd=tmp_path, env={**env, "GITHUB_API_URL": url, "CI_TOOLS_HTTP_BACKOFF": "1000"},
                   timeout=60)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"cannot connect to {url}" in lines[0] and "connection refused" in lines[0]
    assert "check GITHUB_API_URL" in lines[0]
    assert [p.read_bytes() for p in paths] == before


def test_every_retry_loop_is_bounded_by_a_time_budget(cli, env, api, tmp_path):
    files(tmp_path)
    api.fail(r"/repos/acme/checkout/tags", "500", times=100)
    # five attempts would wait 1 + 2 + 4 + 8 s; a budget of 2 s stops after the second
    done = cli("pin", cwd=tmp_path, env={**env, "CI_TOOLS_HTTP_BACKOFF": "1", "CI_TOOLS_HTTP_BUDGET": "2"})
    assert done.returncode == 3
    line = done.stderr.strip()
    assert "failed after 2 attempts" in line and "time budget of 2 s" in line and "CI_TOOLS_HTTP_BUDGET" in line
    assert f"{api.url}/repos/acme/checkout/tags" in line and "HTTP 500" in line
    assert api.count(r"/repos/acme/checkout/tags") == 2


def test_a_rate_limit_wait_beyond_the_budget_fails_at_once(cli, env, api, tmp_path):
    files(tmp_path)
    api.fail(r"/tags", "429", times=100, value=30)
    done = cli("pin", cwd=tmp_path, env={**env, "CI_TOOLS_HTTP_BUDGET": "5"})
    assert done.returncode == 3 and "rate limit" in done.stderr and "time budget" in done.stderr
    assert api.count(r"/tags") <= 2


def test_pin_hints_at_images_when_it_sees_unpinned_ones(cli, env, world, tmp_path):
    write(tmp_path / ".github/workflows/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    container: node:20\n"
          "    steps:\n      - uses: docker://alpine:3.20\n      - uses: acme/checkout@v4.1.0\n")
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "2 container images are not pinned to a digest; `ci-tools pin --images` pins them" in done.stderr
    assert "--images" not in cli("pin", "--images", "--diff", "--no-cache", cwd=tmp_path,
                                 env={**env, "CI_TOOLS_HTTP_BACKOFF": "0"}).stderr.split("cannot pin")[0]
