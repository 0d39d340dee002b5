"""The job summary names each finding's file in a code span: a file name a pull request chose
(backticks, a Markdown link, an image) stays inside it, so it cannot add links or images to the
summary a reviewer reads."""

from __future__ import annotations

import re

import pytest

from ci_tools.core.findings import Finding, Location, Severity
from ci_tools.core.output.summary import append_summary


@pytest.mark.parametrize("name", [
    "a`](https://attacker.example/phish) `b.yml",
    "``![x](https://attacker.example/pixel.png)``.yml",
    "`<b>bold</b>`.yml",
    "pipe|name.yml",
])
def test_a_hostile_file_name_stays_inside_its_code_span(name: str, tmp_path):
    summary = tmp_path / "summary.md"
    finding = Finding("template-injection", Severity.ERROR, "bad", Location(name, 3, 5, 3, 9))
    append_summary(summary, "ci-tools check", [finding], ok_text="none")
    bullet = next(line for line in summary.read_text().splitlines() if line.startswith("- "))
    span = re.match(r"- \S+ \*\*error\*\* (`+)( ?)(.*?)\2\1 line 3, column 5: ", bullet)
    assert span, bullet
    fence, inside = span.group(1), span.group(3)
    assert inside == name and fence not in inside  # the whole name, and nothing closes the span early
