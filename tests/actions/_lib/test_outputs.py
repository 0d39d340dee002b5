"""Issue 14: step outputs that a hostile value cannot forge (actionkit.set_output).

A multi-line output is written as ``name<<DELIMITER`` ... ``DELIMITER``. With a fixed delimiter
(``EOF``), a value that holds a line ``EOF`` ends the output there and the lines after it become
outputs of their own, chosen by whoever wrote the value (a commit message, a plan, a comment). The
delimiter must be unguessable and new for every write, and never occur in the value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.runner import parse_file_command

HOSTILE_VALUES = [
    "line one\nEOF\nfailure-reason=forged",
    "a\nEOF\n",
    "x\r\nDELIM\r\ny",
    "first\nghadelim_\nsecond",
    "multi\nline\n\nwith blank lines\n",
]


@pytest.fixture
def output(monkeypatch, tmp_path) -> Path:
    path = tmp_path / "github_output"
    path.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(path))
    return path


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_a_hostile_multiline_value_is_read_back_whole(kit, output, value: str):
    kit[0].set_output("plan", value)
    kit[0].set_output("failure-reason", "")
    assert parse_file_command(output.read_text(encoding="utf-8")) == {
        "plan": value.replace("\r\n", "\n"), "failure-reason": ""}


def test_the_delimiter_is_random_for_every_write(kit, output):
    for _ in range(20):
        kit[0].set_output("x", "a\nb")
    delimiters = re.findall(r"^x<<(.*)$", output.read_text(encoding="utf-8"), flags=re.M)
    assert len(delimiters) == 20 == len(set(delimiters))
    for delimiter in delimiters:
        assert re.fullmatch(r"ghadelim_[0-9a-f]{16}", delimiter), delimiter


def test_a_value_holding_the_delimiter_gets_another(kit, output, monkeypatch):
    """Even when the attacker guessed the next delimiter, it is not the one written."""
    drawn = iter(["0123456789abcdef", "0123456789abcdef", "fedcba9876543210"])
    monkeypatch.setattr(kit[0].secrets, "token_hex", lambda n: next(drawn))
    value = "before\nghadelim_0123456789abcdef\nforged=1"
    kit[0].set_output("body", value)
    text = output.read_text(encoding="utf-8")
    assert text.startswith("body<<ghadelim_fedcba9876543210\n")
    assert parse_file_command(text) == {"body": value}


@pytest.mark.parametrize("value", ["one line", "", "a=b=c", "<<not a heredoc"])
def test_a_single_line_value_is_written_as_name_equals_value(kit, output, value: str):
    kit[0].set_output("v", value)
    assert output.read_text(encoding="utf-8") == f"v={value}\n"


def test_a_lone_carriage_return_is_multiline_too(kit, output):
    kit[0].set_output("v", "a\rforged=1")
    assert "<<ghadelim_" in output.read_text(encoding="utf-8")


# Workflow commands: a message or a property that holds a newline would end the command there, and
# the next line (chosen by whoever wrote the text: a Terraform error, a rollout's message) would be
# a workflow command of its own, ``::add-mask::`` or ``::stop-commands::`` among them.
HOSTILE_MESSAGES = [
    ("plan failed\n::add-mask::secret-from-the-plan", "plan failed%0A::add-mask::secret-from-the-plan"),
    ("a\r\n::stop-commands::token", "a%0D%0A::stop-commands::token"),
    ("100% done", "100%25 done"),
    ("%0A already escaped", "%250A already escaped"),
]


@pytest.mark.parametrize(("message", "shown"), HOSTILE_MESSAGES)
def test_a_message_stays_one_workflow_command(kit, capsys, message: str, shown: str):
    kit[0].annotate("error", message)
    assert capsys.readouterr().out == f"::error::{shown}\n"


@pytest.mark.parametrize(("title", "shown"), [
    ("plan-failed", "plan-failed"),
    ("a,line=1", "a%2Cline=1"),  # a comma would start another property
    ("x::warning::y", "x%3A%3Awarning%3A%3Ay"),  # a colon would end the properties
    ("a\nb", "a%0Ab"),
    ("50%", "50%25"),
])
def test_a_property_stays_one_property(kit, capsys, title: str, shown: str):
    kit[0].annotate("warning", "m", file="dir/a,b:c.tf", line=3, col=7, title=title)
    assert capsys.readouterr().out == f"::warning file=dir/a%2Cb%3Ac.tf,line=3,col=7,title={shown}::m\n"
