"""core.markdown: the one place text chosen by a pull request is escaped for a page GitHub renders."""

from __future__ import annotations

import pytest

from ci_tools.core.markdown import code_span, md_escape, table_cell


@pytest.mark.parametrize(("text", "cell"), [
    ("a | b", "a \\| b"),                                  # a pipe would end the cell
    ("line one\nline two\r\nthree", "line one line two three"),  # a line break would end the row
    ('pin it as "x@<sha> # v1"', 'pin it as "x@&lt;sha> # v1"'),  # a tag would vanish
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)>"),
    ("keep `<code>` as it is | but the pipe", "keep `<code>` as it is \\| but the pipe"),
    (None, ""),
])
def test_table_cell(text, cell):
    assert table_cell(text) == cell


@pytest.mark.parametrize(("value", "span"), [
    ("build", "`build`"),
    ("a`b", "``a`b``"),                     # a backtick cannot close the span early
    ("`x`", "`` `x` ``"),
    ("a|b", "`a\\|b`"),
    ("job\nname", "`job name`"),            # nor can a line break end the table row
])
def test_code_span(value, span):
    assert code_span(value) == span


def test_md_escape_leaves_no_markdown_syntax():
    assert md_escape("[x](javascript:alert(1)) *b* `c` <i>") == \
        "\\[x\\]\\(javascript:alert\\(1\\)\\) \\*b\\* \\`c\\` \\<i\\>"
