"""The job summary's heading and its all-clear line, by what ``ci-tools commits`` was given."""

from __future__ import annotations

import pytest

from ci_tools.hygiene.commits import summary_texts


@pytest.mark.parametrize(("title", "message_file", "commits", "heading", "ok"), [
    (True, False, None, "Pull request title", "the title follows Conventional Commits"),
    (False, True, None, "Commit message", "the message follows Conventional Commits"),
    (False, False, 1, "Commit messages", "1 commit follows Conventional Commits"),
    (False, False, 0, "Commit messages", "0 commits follow Conventional Commits"),
    (False, False, 11, "Commit messages", "11 commits follow Conventional Commits"),
    (True, False, 3, "Commit messages", "the title and 3 commits follow Conventional Commits"),
    (True, True, None, "Commit messages", "the title and the message follow Conventional Commits"),
])
def test_summary_texts(title, message_file, commits, heading, ok):
    assert summary_texts(title=title, message_file=message_file, commits=commits) == (heading, ok)
