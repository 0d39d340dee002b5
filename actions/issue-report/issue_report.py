"""actions/issue-report: one issue per report, opened once and edited on every later run.

The issue carries a hidden marker, ``<!-- ci:issue-report key=KEY -->`` (the key percent-encoded, so
it cannot end the comment). The open issues of the repository are read (every page, newest first;
pull requests skipped) and the first one that holds the marker *and* was opened by ``author`` is
edited; an issue anybody else opened with the same marker is left alone, so it cannot capture the
report. Otherwise a new issue is opened. The body is cut on a line boundary (an open code fence
closed) to fit GitHub's 65,536 characters.

Inputs (environment): INPUT_TITLE, INPUT_BODY, INPUT_KEY, INPUT_LABELS, INPUT_AUTHOR, INPUT_TOKEN
(never printed), GITHUB_API_URL, GITHUB_REPOSITORY.
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

LIMIT = 65536
MAX_PAGES = 30
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def marker(key: str) -> str:
    return f"<!-- ci:issue-report key={quote(key, safe='')} -->"


def fit(body: str, head: str) -> str:
    """``head`` and ``body`` within the limit: cut on a line boundary, an open fence closed, the cut stated."""
    room = LIMIT - len(head) - 200
    if len(body) <= room:
        return head + body
    kept = body[:room].rsplit("\n", 1)[0]
    if kept.count("```") % 2:
        kept += "\n```"
    return head + kept + "\n\n*Cut here: the report is longer than an issue can hold.*\n"


class GitHub:
    def __init__(self, api: str, repo: str, token: str) -> None:
        self.api, self.repo, self.token = api.rstrip("/"), repo, token
        actionkit.mask(token)

    def call(self, method: str, url: str, payload: dict | None = None) -> tuple[object, dict]:
        if not url.startswith(self.api + "/"):
            raise actionkit.ActionFailure("api-error", "GitHub sent a next page on another origin; not followed")
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "ci-issue-report",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the API's own URL
                return json.loads(response.read() or b"null"), dict(response.headers)
        except urllib.error.HTTPError as error:
            try:
                message = str(json.loads(error.read()).get("message", ""))[:300]
            except (ValueError, AttributeError):
                message = ""
            hint = " (the job needs issues: write)" if error.code in (401, 403) else ""
            raise actionkit.ActionFailure("api-error", f"GitHub answered HTTP {error.code} to {method} "
                                                       f"{url.split('?')[0]}: {message}{hint}") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise actionkit.ActionFailure("api-error", f"{method} {url.split('?')[0]} failed: {error}") from None

    def find(self, mark: str, author: str) -> dict | None:
        url: str | None = f"{self.api}/repos/{self.repo}/issues?state=open&per_page=100"
        for _ in range(MAX_PAGES):
            if url is None:
                return None
            items, headers = self.call("GET", url)
            if not isinstance(items, list):
                raise actionkit.ActionFailure("api-error", "GitHub answered the list of issues with something else")
            for issue in items:
                if not isinstance(issue, dict) or "pull_request" in issue:
                    continue
                login = (issue.get("user") or {}).get("login")
                if login == author and mark in str(issue.get("body") or ""):
                    return issue
            found = _NEXT.search(headers.get("Link", "") or headers.get("link", ""))
            url = found[1] if found else None
        return None


def run() -> None:
    title = inputs.text("title")
    body = os.environ.get(inputs.variable("body"), "")  # as given: leading spaces can be markdown
    key = inputs.text("key", title)
    repo = actionkit.env("GITHUB_REPOSITORY")
    token = inputs.text("token")
    if not title or not body.strip():
        raise actionkit.ActionFailure("invalid-input", "title and body must not be empty")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
        raise actionkit.ActionFailure("invalid-input", f"GITHUB_REPOSITORY {repo!r} is not OWNER/NAME")
    if not token:
        raise actionkit.ActionFailure("invalid-input", "no token: pass one that can write issues")
    github = GitHub(actionkit.env("GITHUB_API_URL") or "https://api.github.com", repo, token)
    mark = marker(key)
    text = fit(body, mark + "\n")
    issue = github.find(mark, inputs.text("author", "github-actions[bot]"))
    if issue is not None:
        result, _ = github.call("PATCH", f"{github.api}/repos/{repo}/issues/{int(issue['number'])}",
                                {"title": title, "body": text})
        outcome = "updated"
    else:
        labels = inputs.items("labels", separators=",", comments=False)
        result, _ = github.call("POST", f"{github.api}/repos/{repo}/issues",
                                {"title": title, "body": text, **({"labels": labels} if labels else {})})
        outcome = "created"
    if not isinstance(result, dict) or not isinstance(result.get("number"), int):
        raise actionkit.ActionFailure("api-error", "GitHub answered without an issue number")
    actionkit.set_output("issue-number", result["number"])
    actionkit.set_output("issue-url", result.get("html_url", ""))
    actionkit.set_output("result", outcome)
    print(f"Issue #{result['number']} {outcome}: {result.get('html_url', '')}")


if __name__ == "__main__":
    actionkit.main(run)
