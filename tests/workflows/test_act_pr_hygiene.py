"""pr-hygiene.yml end to end under act, called by workflow-templates/pr-hygiene.yml on a pull request.

Real: act, git (the pull request's refs ``refs/pull/N/head`` and ``/merge`` in the service's origin,
fetched with the whole history as the workflow asks), ci-tools at the commit under test (the
action's scripts, run by a Python that has ci-tools' dependencies: ``CI_TOOLS_PYTHON``, which the
action's install step honours). Stand-ins: actions/checkout, actions/setup-python.
"""

from __future__ import annotations

import pytest

from support.act_standins import checkout, setup_python
from support.service_repo import ServiceRepo

from .conftest import ci_tools_python

pytestmark = pytest.mark.slow
JOB = "hygiene/Pull request hygiene/Pull request hygiene"


@pytest.fixture(scope="module")
def world(act_session):
    root = act_session.new_dir("pr-hygiene")
    repo = ServiceRepo(root, act_session.git.root, "svc-hygiene", act_session.act.served.sha, ["pr-hygiene"])

    def run(branch: str, title: str, message: str):
        repo.commit_on(branch, message, {"src/svc/loud.py": '"""Loud greetings."""\n'})
        payload, github = repo.pull_request(branch, title)
        handlers = {"actions/checkout": checkout, "actions/setup-python": setup_python(act_session.tool_cache)}
        try:
            return act_session.act.run(repo.path, "pull_request", "pr-hygiene.yml", payload, github=github,
                                       handlers=handlers, env={"CI_TOOLS_PYTHON": ci_tools_python()})
        finally:
            repo.back_to_main()

    return run


def test_a_conventional_pull_request_passes_with_its_bump(world):
    result = world("feature/loud", "feat: greet loudly", "feat: greet loudly")
    assert result.succeeded, result.text()[-6000:]
    assert result.needs["hygiene"] == {"result": "success",
                                       "outputs": {"bump": "minor", "next-version": "1.3.0", "problems": "0"}}
    assert "minor" in result.summary(JOB)


def test_a_bad_title_fails_the_run(world):
    result = world("feature/quiet", "Greet quietly", "feat: greet quietly")
    assert not result.succeeded
    assert result.jobs[JOB] == "failure"
    assert set(result.step_outputs(JOB, "problems")) == {"1"}  # the step, then the action
    assert [e.splitlines()[0] for e in result.errors(JOB)] == [
        '"Greet quietly" does not start with a type; write it as "<type>: greet quietly", e.g. "feat: ..." or "fix: ..."']
    assert "title" in result.summary(JOB)
