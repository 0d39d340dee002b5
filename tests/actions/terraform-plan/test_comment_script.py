"""terraform-plan's pull request comment, from real plans, against a loopback comments API.

The API is the conftest's :class:`CommentsAPI` (GitHub itself cannot run here): it paginates
with ``Link`` headers, refuses bodies over 65,536 characters with 422 as GitHub does, and
answers 401/403 for a wrong or read-only token.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.terraform import Terraform, load_script, run_script, write_config

REPO = Path(__file__).resolve().parents[3]
ACTION = REPO / "actions" / "terraform-plan"
comment_module = load_script(ACTION / "comment.py", "terraform_plan_comment")

pytestmark = pytest.mark.slow
MARKER = "<!-- ci:terraform-plan dir=infra ws=default -->"
TOKEN = "ghs_planCommentToken0123456789abcdef"  # the conftest's CommentsAPI accepts this one


def plan(terraform: Terraform, ws: Path, temp: Path, **inputs: str):
    env = {"INPUT_WORKING_DIRECTORY": "infra", "INPUT_BACKEND_CONFIG": "path=state/terraform.tfstate"}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return run_script(ACTION / "plan.py", env, terraform=terraform, workspace=ws, temp=temp)


def post(
    terraform: Terraform,
    api,
    planned,
    ws: Path,
    temp: Path,
    *,
    number: str = "7",
    token: str = TOKEN,
    api_url: str = "",
    **inputs,
):
    env = {
        "GITHUB_API_URL": api_url or api.url,
        "INPUT_TOKEN": token,
        "INPUT_PR_NUMBER": number,
        "INPUT_WORKING_DIRECTORY": "infra",
        "INPUT_WORKSPACE": "default",
        "PLAN_OUTCOME": "success" if planned.code == 0 else "failure",
        "PLAN_TEXT_FILE": planned.outputs.get("plan-text-file", ""),
    }
    for key, value in planned.outputs.items():
        env["PLAN_" + key.upper().replace("-", "_")] = value
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return run_script(ACTION / "comment.py", env, terraform=terraform, workspace=ws, temp=temp)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    write_config(tmp_path / "ws" / "infra")
    return tmp_path / "ws"


def test_created_then_updated_in_place(terraform: Terraform, comments_api, ws: Path, tmp_path: Path) -> None:
    comments_api.add(7, "Looks good to me")
    first = plan(terraform, ws, tmp_path / "t1")
    run = post(terraform, comments_api, first, ws, tmp_path / "t1")
    assert run.code == 0, run.stdout + run.stderr
    [made] = comments_api.with_marker(7, MARKER)
    assert "3 to add, 0 to change, 0 to destroy, 0 to replace" in made["body"]
    assert "`terraform_data.rotated`" in made["body"]
    assert run.outputs["comment-url"] == made["html_url"]

    write_config(ws / "infra", keep="other")
    second = plan(terraform, ws, tmp_path / "t2")
    run = post(terraform, comments_api, second, ws, tmp_path / "t2")
    assert run.code == 0
    [updated] = comments_api.with_marker(7, MARKER)
    assert updated["id"] == made["id"]
    assert second.outputs["plan-sha256"] in updated["body"] and first.outputs["plan-sha256"] not in updated["body"]
    assert [m for m, path in comments_api.log if path != "/user"] == ["GET", "POST", "GET", "PATCH"]
    assert len(comments_api.comments[7]) == 2  # the reviewer's comment is untouched
    assert comments_api.auth_seen == {f"Bearer {TOKEN}"}


def test_finds_its_comment_on_a_later_page(terraform: Terraform, comments_api, ws: Path, tmp_path: Path) -> None:
    for n in range(230):
        comments_api.add(7, f"comment {n}")
    mine = comments_api.add(7, MARKER + "\nold plan", login="github-actions[bot]")
    comments_api.add(7, "one more")
    run = post(terraform, comments_api, plan(terraform, ws, tmp_path / "t"), ws, tmp_path / "t")
    assert run.code == 0, run.stdout
    gets = [path for method, path in comments_api.log if method == "GET" and path != "/user"]
    assert len(gets) == 3 and gets[-1].endswith("page=3")
    assert ("PATCH", f"/repos/org/svc/issues/comments/{mine['id']}") in comments_api.log
    assert not [m for m, _ in comments_api.log if m == "POST"]
    assert "old plan" not in comments_api.with_marker(7, MARKER)[0]["body"]


def test_one_comment_per_directory_and_workspace(terraform: Terraform, comments_api, ws: Path, tmp_path: Path) -> None:
    default = plan(terraform, ws, tmp_path / "t1")
    staging = plan(terraform, ws, tmp_path / "t2", workspace="staging")
    assert post(terraform, comments_api, default, ws, tmp_path / "t1").code == 0
    assert post(terraform, comments_api, staging, ws, tmp_path / "t2", workspace="staging").code == 0
    assert post(terraform, comments_api, default, ws, tmp_path / "t1").code == 0
    assert len(comments_api.with_marker(7, MARKER)) == 1
    assert len(comments_api.with_marker(7, "<!-- ci:terraform-plan dir=infra ws=staging -->")) == 1
    assert len(comments_api.comments[7]) == 2


def test_huge_plan_is_truncated_under_the_limit(terraform: Terraform, comments_api, ws: Path, tmp_path: Path) -> None:
    (ws / "infra" / "many.tf").write_text(
        'resource "terraform_data" "many" {\n  count = 400\n\n  input = "${count.index}-' + "z" * 150 + '"\n}\n'
    )
    planned = plan(terraform, ws, tmp_path / "t")
    assert planned.code == 0, planned.stdout
    text = Path(planned.outputs["plan-text-file"]).read_text()
    assert len(text) > 100_000
    run = post(terraform, comments_api, planned, ws, tmp_path / "t")
    assert run.code == 0, run.stdout  # the API refuses more than 65,536 characters with 422
    [made] = comments_api.with_marker(7, MARKER)
    body = made["body"]
    assert 60_000 < len(body) <= 65_536
    assert "**Truncated:**" in body and "the full plan is in the log of the workflow run's plan step" in body
    assert body.count("```") == 2 and "\n```\n\n</details>" in body
    shown = body.split("```text\n", 1)[1].split("\n```\n", 1)[0]
    assert text.startswith(shown + "\n")  # whole lines from the top
    assert "403 to add, 0 to change, 0 to destroy, 0 to replace" in body
    assert "- … and 353 more" in body


def test_failed_plan_replaces_the_old_plan(terraform: Terraform, comments_api, ws: Path, tmp_path: Path) -> None:
    assert post(terraform, comments_api, plan(terraform, ws, tmp_path / "t1"), ws, tmp_path / "t1").code == 0
    main = ws / "infra" / "main.tf"
    main.write_text(main.read_text().replace('  input = "stable"', '  input  =  "stable"'))
    failed = plan(terraform, ws, tmp_path / "t2")
    assert failed.outputs["failure-reason"] == "fmt"
    assert post(terraform, comments_api, failed, ws, tmp_path / "t2").code == 0
    [body] = [c["body"] for c in comments_api.with_marker(7, MARKER)]
    assert ":x: **Plan failed** (`fmt`)" in body and "1 file(s) not formatted" in body
    assert "Plan output" not in body


@pytest.mark.parametrize(
    ("read_only", "token", "status"), [(True, TOKEN, "403"), (False, "ghs_wrongWrongWrong", "401")]
)
def test_comment_failed_never_prints_the_token(
    terraform: Terraform, comments_api, ws: Path, tmp_path: Path, read_only: bool, token: str, status: str
) -> None:
    comments_api.read_only = read_only
    run = post(terraform, comments_api, plan(terraform, ws, tmp_path / "t"), ws, tmp_path / "t", token=token)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "comment-failed"
    assert f"answered {status}" in run.errors[0] and "pull-requests: write" in run.errors[0]
    assert token not in run.stdout + run.stderr + run.summary
    assert "Traceback" not in run.stderr


def test_outside_a_pull_request_nothing_is_sent(terraform: Terraform, comments_api, ws: Path, tmp_path: Path) -> None:
    run = post(terraform, comments_api, plan(terraform, ws, tmp_path / "t"), ws, tmp_path / "t", number="")
    assert run.code == 0 and "Not a pull request" in run.stdout
    assert comments_api.log == []


def test_next_page_on_another_host_is_not_followed(terraform: Terraform, comments_api, ws, tmp_path) -> None:
    """The token goes only to GITHUB_API_URL, even when a Link header points elsewhere."""
    for n in range(120):
        comments_api.add(7, f"c{n}")
    real = comments_api.url
    comments_api.public_url = "http://127.0.0.2:9"  # the Link header now names another host
    planned = plan(terraform, ws, tmp_path / "t")
    run = post(terraform, comments_api, planned, ws, tmp_path / "t", api_url=real)
    assert run.outputs["failure-reason"] == "comment-failed"
    assert "another host" in run.errors[0]
    assert [path for _, path in comments_api.log if path != "/user"] == ["/repos/org/svc/issues/7/comments?per_page=100"]


def test_marker_cannot_be_closed_by_a_directory_name() -> None:
    mark = comment_module.marker("weird --> dir", "default")
    assert mark.count("-->") == 1 and mark.endswith("-->")


def test_body_stays_under_the_limit_with_huge_addresses() -> None:
    detail = {
        "add": [f'terraform_data.x["{n}{"k" * 5000}"]' for n in range(60)],
        "change": [],
        "destroy": [],
        "replace": [],
    }
    outputs = {"changes": "true", "summary": "60 to add", "summary-json": json.dumps(detail), "plan-sha256": "a" * 64}
    body = comment_module.render("infra", "default", outputs, "x" * 200_000, "success")
    assert len(body) <= 65_536
    assert "- … and 10 more" in body and "**Truncated:**" in body


# --------------------------------------------------------------------------- only our own comments


def test_comments_of_others_carrying_the_marker_are_left_alone(
    terraform: Terraform, comments_api, ws: Path, tmp_path: Path
) -> None:
    """Anyone can write the marker: a comment with it that the token did not write is never edited
    (in v0.1.0 the first one found was overwritten with the plan, or its forged plan kept)."""
    forged = comments_api.add(7, MARKER + "\n:white_check_mark: **No changes** (trust me)", login="mallory")
    lookalike = comments_api.add(7, MARKER + "\nold", login="github-actions")  # a user, not the bot
    planned = plan(terraform, ws, tmp_path / "t")
    first = post(terraform, comments_api, planned, ws, tmp_path / "t")
    assert first.code == 0, first.stdout
    assert forged["body"].endswith("(trust me)") and lookalike["body"].endswith("old")
    ours = [c for c in comments_api.with_marker(7, MARKER) if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1 and "3 to add" in ours[0]["body"]
    assert not [m for m, _ in comments_api.log if m == "PATCH"]

    again = post(terraform, comments_api, planned, ws, tmp_path / "t")
    assert again.code == 0
    patched = [path for method, path in comments_api.log if method == "PATCH"]
    assert patched == [f"/repos/org/svc/issues/comments/{ours[0]['id']}"]
    assert len(comments_api.with_marker(7, MARKER)) == 3


def test_a_personal_token_edits_the_comments_of_its_user(
    terraform: Terraform, comments_api, ws: Path, tmp_path: Path
) -> None:
    comments_api.user = "deploy-bot"
    other = comments_api.add(7, MARKER + "\nby the job token", login="github-actions[bot]")
    mine = comments_api.add(7, MARKER + "\nby deploy-bot", login="deploy-bot")
    run = post(terraform, comments_api, plan(terraform, ws, tmp_path / "t"), ws, tmp_path / "t")
    assert run.code == 0, run.stdout
    assert ("PATCH", f"/repos/org/svc/issues/comments/{mine['id']}") in comments_api.log
    assert other["body"].endswith("by the job token")


def test_comment_author_input_names_an_apps_bot(terraform: Terraform, comments_api, ws: Path, tmp_path: Path) -> None:
    """An app's installation token cannot ask GET /user who it is: comment-author says it."""
    other = comments_api.add(7, MARKER + "\nby the job token", login="github-actions[bot]")
    mine = comments_api.add(7, MARKER + "\nby the app", login="plan-app[bot]")
    run = post(
        terraform, comments_api, plan(terraform, ws, tmp_path / "t"), ws, tmp_path / "t", comment_author="plan-app[bot]"
    )
    assert run.code == 0, run.stdout
    assert ("PATCH", f"/repos/org/svc/issues/comments/{mine['id']}") in comments_api.log
    assert other["body"].endswith("by the job token")
    assert not [path for method, path in comments_api.log if path == "/user"]
