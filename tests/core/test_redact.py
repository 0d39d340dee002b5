"""Issue 14: tokens never appear in output, whichever variable holds them and whatever their shape.

The variables and shapes are written out here (GitHub's token formats: ``ghp_`` personal, ``gho_``
OAuth, ``ghu_`` user-to-server, ``ghs_`` server-to-server such as ``GITHUB_TOKEN``, ``ghr_``
refresh, and ``github_pat_`` fine-grained personal tokens), not read from the code.
"""

from __future__ import annotations

import pytest

from ci_tools.core import redact as redaction

VARIABLES = ["GITHUB_TOKEN", "GH_TOKEN", "REGISTRY_PASSWORD", "CI_TOOLS_TOKEN"]
# values that have none of GitHub's shapes: only the variable they came from can redact them
PLAIN = "plain-secret-value-0042"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(redaction, "_extra", set())


@pytest.mark.parametrize("variable", VARIABLES)
def test_the_value_of_every_token_variable_is_redacted(monkeypatch, variable: str):
    monkeypatch.setenv(variable, PLAIN)
    out = redaction.redact(f"fatal: https://x:{PLAIN}@host/repo: {PLAIN}!")
    assert PLAIN not in out
    assert out == "fatal: https://x:***@host/repo: ***!"


@pytest.mark.parametrize("variable", VARIABLES)
def test_other_variables_are_not_secrets(monkeypatch, variable: str):
    monkeypatch.setenv(variable, PLAIN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/plain")
    assert redaction.redact("org/plain and plain") == "org/plain and plain"


@pytest.mark.parametrize("token", [
    "ghp_" + "A1b2C3d4E5f6G7h8I9j0KlMn",
    "gho_" + "0123456789abcdefghijKLMN",
    "ghu_" + "0123456789abcdefghijKLMN",
    "ghs_" + "16C7e42F292c6912E7710c838347Ae178B4a",
    "ghr_" + "1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498",
    "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
])
def test_every_token_shape_is_redacted_without_a_variable(token: str):
    assert redaction.redact(f"Authorization: token {token} (end)") == "Authorization: token *** (end)"
    assert redaction.redact(token) == "***"


@pytest.mark.parametrize("text", [
    "ghp_short",  # too short to be a token
    "ghx_0123456789abcdefghijKLMN",  # no such prefix
    "github_path_to_file",
    "a plain sentence about GH_TOKEN and GITHUB_TOKEN",
])
def test_text_that_only_looks_like_a_token_is_kept(text: str):
    assert redaction.redact(text) == text


def test_the_longest_secret_is_redacted_first(monkeypatch):
    """A secret that contains another must not leave its tail behind."""
    monkeypatch.setenv("GH_TOKEN", "abcd")
    monkeypatch.setenv("GITHUB_TOKEN", "abcd-and-more")
    assert redaction.redact("x abcd-and-more y abcd") == "x *** y ***"


def test_registered_secrets_are_redacted_and_tiny_ones_ignored(monkeypatch):
    redaction.register("hunter2-password")
    redaction.register("abc")  # too short: redacting it would mangle every message
    redaction.register(None)
    assert redaction.redact("login hunter2-password abc") == "login *** abc"


def test_short_values_of_variables_are_not_redacted(monkeypatch):
    monkeypatch.setenv("GH_TOKEN", "ab")
    assert redaction.redact("abba") == "abba"


def test_a_secret_of_four_characters_is_redacted(monkeypatch):
    redaction.register("wxyz")
    monkeypatch.setenv("GH_TOKEN", "a1b2")
    assert redaction.redact("wxyz a1b2 wxy") == "*** *** wxy"


def test_an_unset_variable_redacts_nothing():
    text = "XXXX xxxx None null '' **** 0000"
    assert redaction.redact(text) == text


def test_a_secret_inside_another_is_redacted_after_it_whatever_their_order(monkeypatch):
    """By length, not by text: "zzzz" sorts after "a-secret-zzzz" but is the shorter one."""
    monkeypatch.setenv("GH_TOKEN", "zzzz")
    monkeypatch.setenv("GITHUB_TOKEN", "a-secret-zzzz")
    assert redaction.redact("[a-secret-zzzz] [zzzz]") == "[***] [***]"
