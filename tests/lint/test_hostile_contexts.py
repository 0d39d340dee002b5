"""Issue 14: the attacker-controllable contexts, written out here as a table a reviewer can check
against GitHub's documentation, never read from the code's own list.

The table is GitHub's "Security hardening for GitHub Actions / Understanding the risk of script
injections" list (issue, pull request, comment, review, wiki page and commit text, the head branch
of a fork), widened with the other free-text fields of the webhook payloads that GitHub documents
for the events that run on someone else's text: discussions and their answers, the ``changes`` of
an edit, a merge group's head commit, ``workflow_run`` and check suites started by a fork's pull
request, and ``repository_dispatch``'s ``client_payload``. Each is written as a workflow writes it
(``commits[0]``, not ``commits.*``).

Each must be reported by ``template-injection`` when expanded in a ``run:`` line, and the trusted
values beside them (numbers, SHAs, logins, URLs that GitHub builds) must not be. A context dropped
from the code's table fails exactly one row here.
"""

from __future__ import annotations

import re

import pytest

from ci_tools.core.config import Config
from ci_tools.gha.source import load_text
from ci_tools.lint.checks import Context, dangerous_triggers, template_injection

# 45 contexts whose text anyone who can open an issue, a pull request, a discussion or a fork writes.
ATTACKER_CONTEXTS = [
    # the head branch of a fork's pull request
    "github.head_ref",
    # issues and pull requests
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.pull_request.head.repo.description",
    "github.event.pull_request.head.repo.homepage",
    # comments and reviews
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    # discussions
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.answer.body",
    # an edit: the text before it
    "github.event.changes.title.from",
    "github.event.changes.body.from",
    # push: every commit's message and identity are what the committer wrote
    "github.event.commits[0].message",
    "github.event.commits[1].author.name",
    "github.event.commits[0].author.email",
    "github.event.commits[2].committer.name",
    "github.event.commits[0].committer.email",
    "github.event.head_commit.message",
    "github.event.head_commit.author.name",
    "github.event.head_commit.author.email",
    "github.event.head_commit.committer.name",
    "github.event.head_commit.committer.email",
    # merge queue
    "github.event.merge_group.head_commit.message",
    "github.event.merge_group.head_commit.author.name",
    "github.event.merge_group.head_commit.author.email",
    # gollum (wiki)
    "github.event.pages[0].page_name",
    "github.event.pages[3].title",
    # workflow_run following a fork's pull request
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.display_title",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.name",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.committer.name",
    "github.event.workflow_run.head_commit.committer.email",
    "github.event.workflow_run.head_repository.description",
    "github.event.workflow_run.pull_requests[0].head.ref",
    # check suites and runs of a fork's head branch
    "github.event.check_suite.head_branch",
    "github.event.check_run.check_suite.head_branch",
    # repository_dispatch: any JSON the sender chose
    "github.event.client_payload.version",
]

# Values GitHub builds: numbers, SHAs, ids, logins, its own URLs, the base repository's names.
TRUSTED_CONTEXTS = [
    "github.event.pull_request.number",
    "github.event.pull_request.head.sha",
    "github.event.pull_request.base.ref",
    "github.event.pull_request.additions",
    "github.event.issue.number",
    "github.event.issue.html_url",
    "github.event.comment.id",
    "github.event.commits[0].id",
    "github.event.head_commit.id",
    "github.event.head_commit.timestamp",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.id",
    "github.event.check_suite.head_sha",
    "github.event.discussion.number",
    "github.event.review.state",
    "github.sha",
    "github.run_id",
    "github.repository",
    "github.event.repository.default_branch",
    "github.workflow",
]


def _run_step_workflow(expression: str, event: str = "pull_request_target") -> str:
    return ("on: " + event + "\n"
            "permissions: {}\n"
            "jobs:\n"
            "  j:\n"
            "    runs-on: ubuntu-latest\n"
            "    steps:\n"
            f"      - run: echo \"${{{{ {expression} }}}}\"\n")


def injections(text: str) -> list:
    doc = load_text(text, display="w.yml")
    return list(template_injection.check(doc, Context(root=doc.path.parent, config=Config())))


def test_the_table_has_the_45_contexts():
    assert len(ATTACKER_CONTEXTS) == len(set(ATTACKER_CONTEXTS)) == 45


@pytest.mark.parametrize("expression", ATTACKER_CONTEXTS)
def test_every_attacker_context_in_a_run_line_is_reported(expression: str):
    found = injections(_run_step_workflow(expression))
    assert len(found) == 1, expression
    assert (found[0].location.line, found[0].location.col) == (7, 20)
    written = re.sub(r"\[\d+\]", ".*", expression)  # the message names the path as the table does
    assert found[0].message.startswith(f'"{written}" can be written by an attacker and is expanded into')


@pytest.mark.parametrize("expression", ATTACKER_CONTEXTS)
def test_every_attacker_context_reaches_the_script_through_a_function(expression: str):
    """format() and join() carry their arguments' text into the value."""
    assert len(injections(_run_step_workflow(f"format('x{{0}}', {expression})"))) == 1


@pytest.mark.parametrize("expression", ATTACKER_CONTEXTS)
def test_an_attacker_context_only_compared_is_not_reported(expression: str):
    assert injections(_run_step_workflow(f"{expression} == 'main'")) == []
    assert injections(_run_step_workflow(f"contains({expression}, 'x')")) == []


# functions whose value is a boolean or a hash: none of their arguments' text reaches the script
BOOLEAN_FUNCTIONS = ["contains(github.event.issue.title, 'x')", "startsWith(github.head_ref, 'release/')",
                     "endsWith(github.head_ref, '-rc')", "hashFiles(github.event.issue.title)",
                     "success(github.event.issue.title)", "failure(github.event.issue.title)",
                     "always(github.event.issue.title)", "cancelled(github.event.issue.title)",
                     "ENDSWITH(github.head_ref, 'x')", "!github.head_ref", "github.head_ref != 'main'",
                     "github.event.issue.title < 'b'", "github.event.issue.title >= 'b'"]


@pytest.mark.parametrize("expression", BOOLEAN_FUNCTIONS)
def test_a_boolean_or_a_hash_of_attacker_text_is_not_reported(expression: str):
    assert injections(_run_step_workflow(expression)) == []


# functions whose value carries their arguments' text
TEXT_FUNCTIONS = ["format('{0}', github.head_ref)", "join(github.event.commits.*.message, ' ')",
                  "toJSON(github.event.issue.title)", "fromJSON(github.event.issue.body)",
                  "github.head_ref || 'main'", "'x' && github.head_ref", "(github.head_ref)"]


@pytest.mark.parametrize("expression", TEXT_FUNCTIONS)
def test_text_carried_by_a_function_is_reported(expression: str):
    assert len(injections(_run_step_workflow(expression))) == 1


@pytest.mark.parametrize("expression", TRUSTED_CONTEXTS)
def test_values_that_github_builds_are_not_reported(expression: str):
    assert injections(_run_step_workflow(expression)) == []


@pytest.mark.parametrize("expression", ["github.event.pull_request", "github.event.head_commit",
                                        "github.event.workflow_run", "github.event.commits[0]",
                                        "github.event.check_suite", "github.event"])
def test_an_object_holding_attacker_text_is_reported(expression: str):
    found = injections(_run_step_workflow(f"toJSON({expression})"))
    assert len(found) == 1 and "which an attacker can write" in found[0].message


# -------------------------------------------------------------------- through env:
ENV_LEVELS = {
    "workflow": ("env:\n  TITLE: ${{ github.event.issue.title }}\n", "", ""),
    "job": ("", "    env:\n      TITLE: ${{ github.event.issue.title }}\n", ""),
    "step": ("", "", "        env:\n          TITLE: ${{ github.event.issue.title }}\n"),
}


def _env_workflow(level: str, read: str, step_env: str = "") -> str:
    top, job, step = ENV_LEVELS[level]
    return ("on: issues\n" + top + "jobs:\n  j:\n    runs-on: ubuntu-latest\n" + job + "    steps:\n"
            f"      - run: echo \"${{{{ {read} }}}}\"\n" + (step or step_env))


@pytest.mark.parametrize("level", list(ENV_LEVELS))
@pytest.mark.parametrize("read", ["env.TITLE", "env.title", "env.Title", "env['TITLE']"])
def test_a_tainted_env_variable_read_as_an_expression_is_reported(level: str, read: str):
    """``env.title`` reads ``TITLE``: property names of contexts are case-insensitive."""
    found = injections(_env_workflow(level, read))
    assert len(found) == 1, (level, read)
    assert 'is set from "github.event.issue.title", which an attacker can write' in found[0].message
    # the advice names the variable as env: spells it: a shell's names are case-sensitive
    assert found[0].message.endswith('use "$TITLE" instead')


@pytest.mark.parametrize("level", ["workflow", "job"])
def test_the_nearest_env_definition_wins(level: str):
    safe = "        env:\n          TITLE: fixed text\n"
    assert injections(_env_workflow(level, "env.TITLE", safe)) == []


@pytest.mark.parametrize("write", ['echo "title=$TITLE" >> "$GITHUB_OUTPUT"', 'echo "::set-output name=title::$TITLE"'])
def test_a_step_output_written_from_attacker_text_is_reported(write: str):
    """Both ways of setting an output: the file command and the deprecated workflow command."""
    found = injections("on: issues\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
                       "      - id: s\n        env:\n          TITLE: ${{ github.event.issue.title }}\n"
                       f"        run: {write!r}\n"
                       "      - run: echo \"${{ steps.s.outputs.title }}\"\n")
    assert [(f.location.line, f.message.split(" and ")[0]) for f in found] == [
        (10, '"steps.s.outputs.title" is written by step "s" from "$TITLE"')]


def test_an_other_env_variable_is_not_reported():
    assert injections(_env_workflow("job", "env.OTHER")) == []


# -------------------------------------------------------------------- dangerous-triggers
CHECKOUT_WITH = [
    ("repository", "${{ github.event.pull_request.head.repo.full_name }}"),
    ("ref", "${{ github.event.pull_request.head.sha }}"),
    ("ref", "${{ github.head_ref }}"),
    ("ref", "refs/pull/${{ github.event.number }}/merge"),
    ("repository", "${{ github.event.workflow_run.head_repository.full_name }}"),
    ("ref", "${{ github.event.workflow_run.head_sha }}"),
]


@pytest.mark.parametrize(("key", "value"), CHECKOUT_WITH)
@pytest.mark.parametrize("trigger", ["pull_request_target", "workflow_run"])
def test_a_checkout_of_the_head_by_one_key_alone_is_reported(trigger: str, key: str, value: str):
    doc = load_text(f"on: {trigger}\npermissions: {{}}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
                    f"      - uses: actions/checkout@v4\n        with:\n          {key}: {value}\n", display="w.yml")
    found = list(dangerous_triggers.check(doc, Context(root=doc.path.parent, config=Config())))
    assert len(found) == 1, (key, value)
    assert f'("{key}: {value}"' in found[0].message and found[0].location.line == 9


@pytest.mark.parametrize(("key", "value"), [("repository", "${{ github.repository }}"),
                                            ("ref", "${{ github.event.pull_request.base.sha }}"),
                                            ("ref", "main")])
def test_a_checkout_of_the_base_is_not_reported(key: str, value: str):
    doc = load_text("on: pull_request_target\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
                    f"      - uses: actions/checkout@v4\n        with:\n          {key}: {value}\n", display="w.yml")
    assert list(dangerous_triggers.check(doc, Context(root=doc.path.parent, config=Config()))) == []
