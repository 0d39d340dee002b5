"""`[tool.ci-tools.pin]`: defaults of pin, verify, update (and report's resolution), flags overriding them,
and configuration errors that name the file and line."""

from __future__ import annotations

import pytest

from support.pinworld import write

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"


def config(root, body: str) -> None:
    write(root / "pyproject.toml", '[project]\nname = "svc"\n\n[tool.ci-tools.pin]\n' + body)


def test_allow_branches_and_exclude_from_config_and_flag_override(cli, env, api, world, tmp_path):
    config(tmp_path, 'allow-branches = true\nexclude = ["ACME/code*"]\n')
    body = HEAD + "      - uses: acme/checkout@main\n      - uses: acme/codeql/init@v3\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # files changed
    assert wf.read_text() == body.replace("acme/checkout@main", f"acme/checkout@{world.sha['checkout main']} # main")
    assert api.count("acme/codeql") == 0  # excluded: not even resolved
    # the command line wins over the configuration
    write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", "--no-allow-branches", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "[unresolved-ref]" in done.stdout and "--allow-branches" in done.stdout
    assert wf.read_text() == body


def test_jobs_from_config_and_flag_override(cli, env, api, tmp_path):
    api.latency = 0.3  # long enough for requests to overlap when they can
    config(tmp_path, "jobs = 2\n")
    write(tmp_path / ".github/workflows/a.yml", HEAD + "".join(
        f"      - uses: acme/{name}@{ref}\n" for name, ref in
        [("checkout", "v4"), ("nested", "v2.0.0"), ("codeql", "v3"), ("comp", "v1.0.0")]))
    assert cli("pin", "--diff", "--no-cache", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert api.max_in_flight == 2
    api.max_in_flight = 0
    assert cli("pin", "--diff", "--no-cache", "--jobs", "1", cwd=tmp_path, env=env).returncode == 1
    assert api.max_in_flight == 1


def test_cache_ttl_from_config_and_flag_override(cli, env, api, tmp_path):
    config(tmp_path, "cache-ttl = 0\n")
    write(tmp_path / ".github/workflows/a.yml", HEAD + "      - uses: acme/checkout@v4\n")
    assert cli("pin", "--diff", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert api.count() == 2
    assert cli("pin", "--diff", cwd=tmp_path, env=env).returncode == 1
    assert api.count() == 4  # a TTL of 0: every run asks again
    assert cli("pin", "--diff", "--cache-ttl", "3600", cwd=tmp_path, env=env).returncode == 1
    assert api.count() == 4  # the flag's hour: served from the cache


def test_via_git_and_template_from_config(cli, env, api, world, tmp_path):
    root = world.root.as_posix()
    config(tmp_path, f'via = "git"\ngit-url-template = "file://{root}/{{owner}}+{{repo}}"\n')
    body = HEAD + "      - uses: acme/checkout@v4\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # files changed
    pinned = body.replace("acme/checkout@v4", f"acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2")
    assert wf.read_text() == pinned
    assert api.count() == 0  # git ls-remote, not the API
    # --via api on the command line: the configured template does not apply (and is no error)
    write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", "--via", "api", "--no-cache", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert wf.read_text() == pinned and api.count() == 2


def test_update_within_and_min_age_from_config(cli, env, world, tmp_path):
    old = world.sha["checkout v4.0.0"]
    body = HEAD + f"      - uses: acme/checkout@{old} # v4.0.0\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    # v4.2.2 was published 10 days ago, v4.1.0 100 days ago
    config(tmp_path, "update.min-age = 30\n")
    assert cli("update", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert wf.read_text().endswith(f"acme/checkout@{world.sha['checkout v4.1.0']} # v4.1.0\n")
    write(tmp_path / ".github/workflows/a.yml", body)
    assert cli("update", "--min-age", "0", cwd=tmp_path, env=env).returncode == 1
    assert wf.read_text().endswith(f"acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2\n")
    # within = "minor" keeps v4.0.0 (no newer v4.0.x); --within major overrides
    config(tmp_path, '[tool.ci-tools.pin.update]\nwithin = "minor"\n')
    write(tmp_path / ".github/workflows/a.yml", body)
    assert cli("update", cwd=tmp_path, env=env).returncode == 0
    assert wf.read_text() == body
    assert cli("update", "--within", "major", cwd=tmp_path, env=env).returncode == 1  # files changed
    assert wf.read_text().endswith(f"acme/checkout@{world.sha['checkout v4.2.2']} # v4.2.2\n")


def test_excluded_repositories_are_not_updated(cli, env, api, world, tmp_path):
    config(tmp_path, 'exclude = ["acme/checkout"]\n')
    body = HEAD + f"      - uses: acme/checkout@{world.sha['checkout v4.0.0']} # v4.0.0\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("update", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert wf.read_text() == body and api.count() == 0


def test_verify_does_not_ask_excluded_repositories_to_be_pinned(cli, env, world, tmp_path):
    body = (HEAD + "      - uses: acme/checkout@v4\n"
            f"      - uses: acme/codeql/init@{world.sha['codeql v3.27.0']}\n")  # pinned, no version comment
    write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("verify", cwd=tmp_path, env=env)
    assert done.returncode == 1 and done.stdout.count("[unpinned-uses]") == 2
    config(tmp_path, 'exclude = ["acme/*"]\n')
    done = cli("verify", cwd=tmp_path, env=env)
    # the tag ref is meant to stay a tag; the pin without a comment is still checked
    assert done.returncode == 1 and done.stdout.count("[unpinned-uses]") == 1
    assert "acme/codeql/init@" in done.stdout and "a.yml:6:" not in done.stdout


@pytest.mark.parametrize("command", ["pin", "verify", "update", "report"])
def test_unknown_key_is_a_usage_error_with_file_and_line(command, cli, env, tmp_path):
    config(tmp_path, "jobs = 4\nupdate.within = \"minor\"\nallow-branchs = true\n")
    write(tmp_path / ".github/workflows/a.yml", HEAD + "      - uses: acme/checkout@v4\n")
    done = cli(command, cwd=tmp_path, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert ('pyproject.toml:7: unknown key "allow-branchs" in [tool.ci-tools.pin]; known keys: allow-branches, '
            "cache-ttl, exclude, git-url-template, images, jobs, update, via") in done.stderr


@pytest.mark.parametrize("text,words", [
    ('[pin.update]\nwithin = "minor"\nmin_age = 3\n',
     'ci-tools.toml:3: unknown key "min_age" in [tool.ci-tools.pin.update]; known keys: min-age, within'),
    ('[pin]\njobs = 0\n', "ci-tools.toml:2: [tool.ci-tools] pin.jobs: 0 is less than the minimum of 1"),
    ('pin = {via = "svn"}\n', 'ci-tools.toml:1: [tool.ci-tools] pin.via: "svn" is not one of'),
    ('[pin]\nexclude = [\n  "org/*",\n  "checkout",\n]\n',
     'ci-tools.toml:2: exclude in [tool.ci-tools.pin]: "checkout" is not an owner/repo pattern'),
    ('[pin]\nvia = "git"\ngit-url-template = "https://git.invalid/{repo}.git"\n',
     'ci-tools.toml:3: git-url-template in [tool.ci-tools.pin] needs "{owner}" and "{repo}"'),
])
def test_bad_pin_configuration_in_ci_tools_toml(text, words, cli, env, tmp_path):
    write(tmp_path / ".github/ci-tools.toml", text)
    body = HEAD + "      - uses: acme/checkout@v4\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", cwd=tmp_path, env=env)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert wf.read_text() == body


def test_report_online_reads_the_resolution_settings(cli, env, api, world, tmp_path):
    config(tmp_path, "cache-ttl = 0\n")
    write(tmp_path / ".github/workflows/a.yml",
          HEAD + f"      - uses: acme/checkout@{world.sha['checkout v4.1.0']} # v4.1.0\n")
    for _ in range(2):
        api.reset_log()
        done = cli("report", "--online", "--depth", "0", "--format", "json", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert api.count(r"/acme/checkout/tags(\?|$)") > 0  # a TTL of 0: asked on every run
    api.reset_log()
    done = cli("report", "--online", "--depth", "0", "--format", "json", "--cache-ttl", "3600", cwd=tmp_path, env=env)
    assert done.returncode == 0 and api.count(r"/acme/checkout/tags(\?|$)") == 0  # the flag's hour: cached
