"""python-ci.yml end to end under act, called by workflow-templates/python-ci.yml from a service repository.

Real: act (jobs, ``needs``, the matrix, ``if:``, job outputs), git (the checkout stand-in fetches
from the service's origin over HTTP), the CPython versions of this machine (the runner's tool
cache), pip installing the service's hashed requirements from a local wheel directory (no index),
ruff, mypy and pytest on the service's code. Stand-ins: actions/checkout, actions/setup-python
and actions/upload-artifact (``support.act_standins``).
"""

from __future__ import annotations

import pytest

from support.act_standins import ArtifactService, checkout, setup_python
from support.service_repo import ServiceRepo

pytestmark = pytest.mark.slow
LINT = "python-ci/Python CI/Lint and type check"  # act's job names: caller job / workflow name / job name
TESTS = "python-ci/Python CI/pytest (Python "
FAILING_TEST = '''from svc import greet


def test_greet() -> None:
    assert greet("ci") == "hello, ci"


def test_greet_shouts() -> None:
    assert greet("ci") == "HELLO, CI"
'''


@pytest.fixture(scope="module")
def world(act_session, wheels):
    root = act_session.new_dir("python-ci")
    repo = ServiceRepo(root, act_session.git.root, "svc-python", act_session.act.served.sha, ["python-ci"])

    def run(event: str, **kwargs):
        artifacts = ArtifactService(act_session.new_dir("artifacts"))
        if event == "push":
            payload, github = repo.push_event()
        else:
            payload, github = repo.pull_request(kwargs.pop("branch"), kwargs.pop("title"))
        handlers = {"actions/checkout": checkout, "actions/setup-python": setup_python(act_session.tool_cache),
                    "actions/upload-artifact": artifacts.upload}
        result = act_session.act.run(repo.path, event, "python-ci.yml", payload, github=github, handlers=handlers,
                                     env={"PIP_FIND_LINKS": str(wheels)}, **kwargs)
        repo.back_to_main()
        return result, artifacts

    return repo, run


def test_push_lints_type_checks_and_tests_every_version(world):
    repo, run = world
    result, artifacts = run("push")
    assert result.succeeded, result.text()[-8000:]
    assert result.result("python-ci") == "success"
    jobs = result.jobs
    assert jobs[LINT] == "success"
    assert {name: value for name, value in jobs.items() if name.startswith(TESTS)} == {
        f"{TESTS}{version})-{n}": "success" for n, version in enumerate(("3.11", "3.12", "3.13"), 1)}
    assert sorted(artifacts.uploaded) == ["junit-python-3.11", "junit-python-3.12", "junit-python-3.13"]
    for name in artifacts.uploaded:
        junit = artifacts.files(name)["junit.xml"].decode()
        assert 'tests="1"' in junit and 'failures="0"' in junit and "test_greet" in junit


def test_a_failing_test_fails_the_run(world):
    repo, run = world
    repo.commit_on("feat/shout", "feat: shout", {"tests/test_svc.py": FAILING_TEST})
    # one version of the matrix (act's --matrix) is enough to see a failing test fail the run
    result, artifacts = run("pull_request", branch="feat/shout", title="feat: shout", matrix={"python-version": "3.12"})
    assert not result.succeeded
    assert result.jobs[LINT] == "success"
    assert result.jobs[f"{TESTS}3.12)"] == "failure", result.jobs
    assert "test_greet_shouts" in result.text(TESTS)
    assert "Python CI/act-observe" not in result.jobs  # act stops the run: the caller's next job never starts
    junit = next(iter(artifacts.uploaded))  # the results are uploaded although the tests failed
    assert 'failures="1"' in artifacts.files(junit)["junit.xml"].decode()
