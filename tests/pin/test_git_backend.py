"""`--via git`: git ls-remote against real repositories over git's smart HTTP on 127.0.0.1 and file://."""

from __future__ import annotations

import subprocess

import pytest

from support.gitserver import GitServer, bare_clone
from support.pinworld import write

BODY = ("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4\n"
        "      - uses: acme/nested@v2.0.0\n      - uses: acme/clash@v1\n      - uses: acme/gone@v1\n")


@pytest.fixture(scope="module")
def served(world, tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    for name in ("acme/checkout", "acme/nested", "acme/clash"):
        bare_clone(world.repos[name].path, root / f"{name}.git")
    with GitServer(root) as server:
        yield server, root


def expected(world) -> str:
    return (BODY.replace("acme/checkout@v4", f"acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2")
            .replace("acme/nested@v2.0.0", f"acme/nested@{world.sha['nested v2.0.0']} # v2.0.0"))


@pytest.mark.slow
def test_pin_via_smart_http(cli, served, world, tmp_path):
    server, _ = served
    wf = write(tmp_path / ".github/workflows/ci.yml", BODY)
    done = cli("pin", "--via", "git", "--git-url-template", server.url + "/{owner}/{repo}.git",
               "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path, env={"CI": "true"})
    assert done.returncode == 1, done.stderr  # the clash and the missing repository are refused
    assert wf.read_text() == expected(world)
    assert "[ref-confusion]" in done.stdout and "[unresolved-ref]" in done.stdout
    refs_requests = [p for p in server.log if "info/refs" in p]
    assert len(refs_requests) == 4  # one ls-remote per repository
    server.log.clear()
    again = cli("pin", "--via", "git", "--git-url-template", server.url + "/{owner}/{repo}.git",
                "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path, env={"CI": "true"})
    assert again.returncode == 1 and wf.read_text() == expected(world)
    assert not [p for p in server.log if "acme/checkout" in p or "acme/nested" in p]


def test_pin_via_file_urls(cli, served, world, tmp_path):
    _, root = served
    wf = write(tmp_path / ".github/workflows/ci.yml", BODY)
    done = cli("pin", "--via", "git", "--no-cache", "--git-url-template", f"file://{root}/{{owner}}/{{repo}}.git",
               cwd=tmp_path, env={"CI": "true"})
    assert done.returncode == 1
    assert wf.read_text() == expected(world)


@pytest.mark.slow
def test_verify_online_via_git_finds_the_fork_commit(cli, world, tmp_path):
    # a git host that serves any commit of its object store (as GitHub does for a fork network)
    parent = world.repos["acme/checkout"].path
    write(tmp_path / ".github/workflows/ci.yml",
          f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@{world.fork_commit} # v4.2.2\n")
    template = f"file://{parent.parent}/{{owner}}+{{repo}}"
    done = cli("verify", "--online", "--via", "git", "--no-cache", "--git-url-template", template,
               cwd=tmp_path, env={"CI": "true", "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "uploadpack.allowAnySHA1InWant",
                                  "GIT_CONFIG_VALUE_0": "true"})
    assert done.returncode == 1, done.stderr
    assert "[impostor-commit]" in done.stdout


def test_a_refused_git_server_is_named_with_what_to_check(cli, env, tmp_path):
    from support.github_api import refused_url

    write(tmp_path / ".github/workflows/a.yml",
          "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@v4\n")
    with refused_url() as url:
        done = cli("pin", "--via", "git", "--git-url-template", url + "/{owner}/{repo}.git", cwd=tmp_path, env=env)
    assert done.returncode == 3 and len(done.stderr.strip().splitlines()) == 1
    assert f"cannot connect to {url}/acme/checkout.git" in done.stderr and "--git-url-template" in done.stderr


@pytest.mark.parametrize("poison", ["hooks", "hooks-path", "url-rewrite", "objects-elsewhere"])
def test_a_mirror_in_a_restored_cache_runs_none_of_its_hooks_or_config(cli, world, tmp_path, poison):
    """The cache directory may come back from an Actions cache that a pull request's run wrote, so the
    git mirrors kept in it are the attacker's: their hooks, or a hooksPath or url rewrite in their config
    (any of their config: it is replaced) must never run or redirect anything, and a mirror whose
    objects live elsewhere is made again."""
    parent = world.repos["acme/checkout"].path
    write(tmp_path / ".github/workflows/ci.yml",
          f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/checkout@{world.fork_commit} # v4.2.2\n")
    args = ("verify", "--online", "--via", "git", "--cache-dir", str(tmp_path / "cache"), "--git-url-template",
            f"file://{parent.parent}/{{owner}}+{{repo}}")
    env = {"CI": "true", "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "uploadpack.allowAnySHA1InWant",
           "GIT_CONFIG_VALUE_0": "true"}
    assert "[impostor-commit]" in cli(*args, cwd=tmp_path, env=env).stdout
    [mirror] = [p.parent for p in (tmp_path / "cache").rglob("HEAD") if (p.parent / "objects").is_dir()]
    subprocess.run(["git", "--git-dir", str(mirror), "update-ref", "-d", "refs/tags/v4.2.2"], check=True)  # to fetch
    marker = tmp_path / "ran"
    hook = write(tmp_path / "evil-hooks" / "reference-transaction", f"#!/bin/sh\necho \"$0\" >> {marker}\n", mode=0o755)
    outside = tmp_path / "outside"
    config = {"hooks-path": f"[core]\n\thooksPath = {hook.parent}\n",
              "url-rewrite": f"[url \"file:///nowhere/\"]\n\tinsteadOf = file://{parent.parent}/\n"}.get(poison, "")
    with (mirror / "config").open("a") as handle:
        handle.write(config)
    if poison == "hooks":
        write(mirror / "hooks" / "reference-transaction", hook.read_text(), mode=0o755)
    if poison == "objects-elsewhere":
        outside.mkdir()
        (mirror / "objects").rename(outside / "objects")
        (mirror / "objects").symlink_to(outside / "objects")  # the next fetch would write out there
    before = sorted(outside.rglob("*"))
    done = cli(*args, cwd=tmp_path, env=env)
    assert not marker.exists(), marker.read_text()
    assert done.returncode == 1 and "[impostor-commit]" in done.stdout, done.stdout + done.stderr
    assert not (mirror / "objects").is_symlink() and sorted(outside.rglob("*")) == before
