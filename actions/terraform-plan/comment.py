"""terraform-plan's pull request comment: one per working directory and workspace, updated in place.

The comment carries a hidden marker, ``<!-- ci:terraform-plan dir=DIR ws=WS -->``; the step lists
the pull request's comments (every page: a busy pull request has more than 100) and edits the
one with its marker written by the token's own identity, or creates it. Anyone can write the
marker: a comment by anybody else is never edited. The identity is the ``comment-author`` input,
else the login ``GET /user`` answers (a personal token), else, when GitHub answers that an
installation token has no user (403), ``github-actions[bot]``, who writes with ``github.token``. A failed plan updates the comment too, so reviewers never
approve an older plan that a newer commit no longer produces.

The body stays under GitHub's 65,536-character limit: the plan text is folded in ``<details>``
and cut on a line boundary, with the fence closed and the cut stated.

Inputs (environment): INPUT_TOKEN (never printed), INPUT_PR_NUMBER, INPUT_COMMENT_AUTHOR,
INPUT_WORKING_DIRECTORY, INPUT_WORKSPACE, PLAN_OUTCOME, PLAN_* (the plan step's outputs), GITHUB_API_URL,
GITHUB_REPOSITORY.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
import inputs  # noqa: E402
import tfkit  # noqa: E402

COMMENT_LIMIT = 65536
_BUDGET = COMMENT_LIMIT - 1536  # room for the header, the table and the lists of addresses
_LIST_LIMIT = 50
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
JOB_TOKEN_AUTHOR = "github-actions[bot]"


class HTTPFailure(actionkit.ActionFailure):
    """An HTTP error answer, with its status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__("comment-failed", message)
        self.status = status


def marker(working_dir: str, workspace: str) -> str:
    """The hidden marker; the directory is percent-encoded so it cannot end the HTML comment."""
    return f"<!-- ci:terraform-plan dir={quote(working_dir, safe='/._-')} ws={quote(workspace, safe='._-')} -->"


def _short(address: str, limit: int = 300) -> str:
    """An address cut to ``limit`` characters: a ``for_each`` key can be a whole document."""
    return address if len(address) <= limit else address[: limit - 1] + "…"


def _addresses(title: str, items: list[str]) -> str:
    if not items:
        return ""
    shown = "".join(f"- {tfkit.code(_short(item))}\n" for item in items[:_LIST_LIMIT])
    more = f"- … and {len(items) - _LIST_LIMIT} more\n" if len(items) > _LIST_LIMIT else ""
    return f"**{title}:**\n{shown}{more}\n"


def render(working_dir: str, workspace: str, outputs: dict[str, str], plan_text: str, outcome: str) -> str:
    """The comment body for a plan step's outputs; always under :data:`COMMENT_LIMIT`."""
    head = f"{marker(working_dir, workspace)}\n### Terraform plan: {tfkit.code(working_dir)} (workspace {tfkit.code(workspace)})\n\n"
    commit = os.environ.get("GITHUB_SHA", "")[:12]
    at = f" at `{commit}`" if commit else ""
    if outcome != "success":
        reason = outputs.get("failure-reason") or "plan-failed"
        message = outputs.get("failure-message") or "see the job log"
        return (
            head
            + f":x: **Plan failed** (`{reason}`){at}: {actionkit.md_escape(message)}\n\nSee the workflow run for the full output.\n"
        )
    try:
        detail = json.loads(outputs.get("summary-json") or "{}")
    except ValueError:
        detail = {}
    changes = outputs.get("changes") == "true"
    status = f":memo: **{outputs.get('summary', '')}**{at}" if changes else f":white_check_mark: **No changes**{at}"
    table = (
        "| Add | Change | Destroy | Replace |\n|---:|---:|---:|---:|\n"
        f"| {len(detail.get('add', []))} | {len(detail.get('change', []))} | {len(detail.get('destroy', []))} "
        f"| {len(detail.get('replace', []))} |\n\n"
    )
    lists = (
        _addresses("Add", detail.get("add", []))
        + _addresses("Change", detail.get("change", []))
        + _addresses("Destroy", detail.get("destroy", []))
        + _addresses("Replace", detail.get("replace", []))
    )
    meta = (
        f"Plan SHA-256 `{outputs.get('plan-sha256', '')}` (normalised plan), "
        f"Terraform {outputs.get('terraform-version', '')}.\n\n"
    )
    body = head + status + "\n\n" + table + lists + meta
    where = "the full plan is in the log of the workflow run's plan step"
    return body + tfkit.folded_block("Plan output", plan_text, max(COMMENT_LIMIT - 64 - len(body), 1024), where)


class GitHub:
    """The three issue-comment endpoints, with urllib; errors never include the token."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.api = api_url.rstrip("/")
        self.repository = repository
        self.token = token

    def identity(self) -> str:
        """The login the token writes comments as (see the module's docstring)."""
        try:
            user, _ = self._call("GET", f"{self.api}/user")
        except HTTPFailure as failure:
            if failure.status != 403:
                raise
            return JOB_TOKEN_AUTHOR
        login = user.get("login") if isinstance(user, dict) else None
        if not isinstance(login, str) or not login:
            raise actionkit.ActionFailure("comment-failed", "GET /user answered no login")
        return login

    def _call(self, method: str, url: str, payload: dict | None = None) -> tuple[object, str]:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "org-ci-terraform-plan",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null"), response.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            detail = ""
            try:
                detail = str(json.loads(error.read()).get("message", ""))
            except (ValueError, AttributeError, OSError):
                pass
            hint = " (the job needs permissions: pull-requests: write)" if error.code in (401, 403, 404) else ""
            raise HTTPFailure(f"{method} {self._path(url)} answered {error.code} {detail}{hint}".strip(), error.code) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise actionkit.ActionFailure("comment-failed", f"{method} {self._path(url)} failed: {reason}") from None

    def _path(self, url: str) -> str:
        return url[len(self.api) :] if url.startswith(self.api) else url

    def comments(self, number: int) -> list[dict]:
        url = f"{self.api}/repos/{self.repository}/issues/{number}/comments?per_page=100"
        found: list[dict] = []
        pages = 0
        while url and pages < 200:
            page, link = self._call("GET", url)
            if not isinstance(page, list):
                raise actionkit.ActionFailure("comment-failed", "listing comments did not answer a list")
            found.extend(item for item in page if isinstance(item, dict))
            match = _NEXT.search(link or "")
            url = match.group(1) if match else ""
            if url and not url.startswith(self.api + "/"):
                # The token goes only to the API it was given for.
                raise actionkit.ActionFailure("comment-failed", "the next page of comments is on another host")
            pages += 1
        return found

    def upsert(self, number: int, mark: str, body: str, author: str) -> tuple[str, dict]:
        """Edit the comment with ``mark`` that ``author`` wrote, or create one."""
        for comment in self.comments(number):
            user = comment.get("user")
            user = user if isinstance(user, dict) else {}
            if str(user.get("login", "")).lower() != author.lower():
                continue  # somebody else's comment, whatever it says
            if mark in str(comment.get("body", "")):
                updated, _ = self._call(
                    "PATCH", f"{self.api}/repos/{self.repository}/issues/comments/{comment['id']}", {"body": body}
                )
                return "updated", updated if isinstance(updated, dict) else {}
        created, _ = self._call("POST", f"{self.api}/repos/{self.repository}/issues/{number}/comments", {"body": body})
        return "created", created if isinstance(created, dict) else {}


def _plan_outputs() -> dict[str, str]:
    keys = [
        "changes",
        "summary",
        "summary-json",
        "plan-sha256",
        "artifact-name",
        "terraform-version",
        "failure-reason",
        "failure-message",
    ]
    return {key: os.environ.get("PLAN_" + key.upper().replace("-", "_"), "") for key in keys}


def run() -> None:
    token = inputs.text("github-token", var="INPUT_TOKEN")
    number = inputs.integer("pr-number", minimum=0, what="a pull request number")
    if number is None:
        print("Not a pull request: no comment")
        return
    if not token:
        raise actionkit.ActionFailure("comment-failed", "no token to comment with; pass github-token")
    repository = actionkit.env("GITHUB_REPOSITORY")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        raise actionkit.ActionFailure("comment-failed", "GITHUB_REPOSITORY is not owner/name")
    working_dir = inputs.relative_path("working-directory")
    workspace = tfkit.read_workspace()
    outputs = _plan_outputs()
    text_file = actionkit.env("PLAN_TEXT_FILE")
    plan_text = (
        Path(text_file).read_text(encoding="utf-8", errors="replace") if text_file and Path(text_file).is_file() else ""
    )
    body = render(working_dir, workspace, outputs, plan_text, actionkit.env("PLAN_OUTCOME", "success"))
    api = GitHub(actionkit.env("GITHUB_API_URL") or "https://api.github.com", repository, token)
    author = inputs.text("comment-author") or api.identity()
    action, comment = api.upsert(number, marker(working_dir, workspace), body, author)
    url = str(comment.get("html_url", ""))
    actionkit.set_output("comment-id", str(comment.get("id", "")))
    actionkit.set_output("comment-url", url)
    print(f"Pull request comment {action}: {url or comment.get('id', '')}")


if __name__ == "__main__":
    actionkit.main(run)
