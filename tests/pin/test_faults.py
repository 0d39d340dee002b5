"""Network faults: bounded retries that succeed, and failures that leave every file byte-identical."""

from __future__ import annotations

import pytest

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
    assert len(lines) == 1 and "failed after 5 attempts: HTTP 500" in lines[0] and "no file was changed" in lines[0]
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


def test_connection_refused_is_fatal_and_clear(cli, env, tmp_path):
    paths = files(tmp_path)
    before = [p.read_bytes() for p in paths]
    done = cli("pin", cwd=tmp_path, env={**env, "GITHUB_API_URL": "http://127.0.0.1:9"})
    assert done.returncode == 3 and "connection failed" in done.stderr and "Traceback" not in done.stderr
    assert [p.read_bytes() for p in paths] == before
