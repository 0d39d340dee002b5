"""The command line: usage errors, rate limits, GitHub's cap on filtered searches, progress on a terminal."""

from __future__ import annotations

import json

import pytest

from ci_tools.cli import main

from .conftest import UNTIL_TEXT


@pytest.mark.parametrize("args,message", [
    (["org/app", "--since", "soon"], '--since "soon" is not a date'),
    (["org/app", "--since", "2026-04-01", "--until", "2026-03-01"], "--since must be before --until"),
    (["org/app", "--since", "500d"], "longer than 400 days"),
    (["not-a-repo"], '"not-a-repo" is not a repository; name it as OWNER/NAME'),
    (["--org", "bad org"], '--org "bad org" is not an organisation name'),
    (["org/app", "--rate", "linux"], '--rate "linux" must be RUNNER=USD_PER_MINUTE'),
    (["org/app", "--rate", "linux=-1"], "must be RUNNER=USD_PER_MINUTE"),
    (["org/app", "--alert-red-after", "1 day"], '--alert-red-after "1 day" is not a duration'),
    (["org/app", "--otlp-endpoint", "ftp://collector"], "is not an http:// or https:// URL"),
    (["org/app", "--otlp-endpoint", "https://u:p@collector"], "must not carry credentials"),
    (["org/app", "--otlp-endpoint", "http://127.0.0.1:9", "--otlp-header", "novalue"], "KEY=VALUE"),
    (["org/app", "--jobs", "0"], "--jobs must be between 1 and 32"),
])
def test_bad_arguments_are_usage_errors_before_any_request(cli, env, api, args, message):
    done = cli("metrics", *args, env=env)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert api.count() == 0


def test_without_repositories_it_reads_github_repository_or_says_what_to_do(cli, env, api):
    done = cli("metrics", "--until", UNTIL_TEXT, "--format", "json", "--no-tests",
               env={**env, "GITHUB_REPOSITORY": "org/app"})
    assert done.returncode == 0 and json.loads(done.stdout)["repositories"][0]["name"] == "org/app"
    done = cli("metrics", env=env)
    assert done.returncode == 2
    assert "name the repositories (OWNER/NAME ...) or --org ORG (GITHUB_REPOSITORY is not set)" in done.stderr


def test_main_in_process_writes_the_report_file_atomically(env, tmp_path, monkeypatch, capsys):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "report.md"
    code = main(["metrics", "org/app", "--until", UNTIL_TEXT, "--no-tests", "--output", str(out)])
    assert code == 0
    assert out.read_text().startswith("# Pipeline metrics\n")
    assert capsys.readouterr().out == ""
    assert not list(tmp_path.glob(".report.md.*"))  # no temporary file left


@pytest.mark.parametrize("kind,value", [("secondary-ratelimit", 1), ("429", 1), ("403-ratelimit", 1), ("500", 0)])
def test_rate_limits_and_server_errors_are_waited_out(cli, env, api, kind, value):
    api.fail(r"/actions/runs/\d+/jobs", kind, times=3, value=value)
    api.fail(r"/actions/runs\Z", kind, times=1, value=value)
    done = cli("metrics", "org/app", "--until", UNTIL_TEXT, "--no-tests", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["totals"]["runs"] == len(api.repos["org/app"].actions.runs)


def test_a_limit_too_far_away_fails_at_once_in_one_line(cli, env, api):
    api.fail(r"/actions/runs", "secondary-ratelimit", times=100, value=3600)
    done = cli("metrics", "org/app", "--until", UNTIL_TEXT, env=env)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "secondary rate limit" in lines[0] and "make fewer requests at once" in lines[0]


def test_a_window_above_the_search_cap_is_split_not_cut(cli, env, api, scenario):
    api.search_cap = 50  # as GitHub's 1,000, with fewer runs
    done = cli("metrics", "org/app", "--until", UNTIL_TEXT, "--no-tests", "--format", "json", env=env)
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["totals"]["runs"] == len(scenario.pipelines.data.runs)
    assert api.count(r"/actions/runs\?") > len(scenario.pipelines.data.runs) // 50


def test_the_documented_cap_is_split_on_the_first_page(env, api, scenario, monkeypatch, capsys):
    from ci_tools.metrics import client

    monkeypatch.setattr(client, "SEARCH_CAP", 60)
    api.search_cap = 60
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["metrics", "org/app", "--until", UNTIL_TEXT, "--no-tests", "--format", "json", "--no-cache"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["totals"]["runs"] == len(scenario.pipelines.data.runs)
    pages = [p for p in api.log if "/actions/runs?" in p]
    assert all("page=2" not in p for p in pages)  # every part fits one page of 100 once split below the cap


def test_progress_on_a_terminal_and_never_in_ci(env, tmp_path):
    from support.terminal import run_on_terminal

    args = ["metrics", "org/app", "--until", UNTIL_TEXT, "--format", "json", "--output", str(tmp_path / "r.json")]
    code, _, err = run_on_terminal(args, tmp_path, {k: v for k, v in env.items() if k != "CI"})
    assert code in (0, 1) and "reading jobs of runs" in err and "reading test reports" in err
    code, _, err = run_on_terminal(args + ["--no-cache"], tmp_path, env)  # CI=true: no counter
    assert code in (0, 1) and "reading jobs" not in err
