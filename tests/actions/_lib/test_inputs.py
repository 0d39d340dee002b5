"""actions/_lib/inputs.py: the inputs, read by name, typed, named in every error.

The tables are the values a calling workflow can pass (often filled from event data: a branch
name, a comment), written out here; none is taken from the module's own lists.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def inputs(kit, monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "ws"))
    (tmp_path / "ws").mkdir()
    for name in [k for k in os.environ if k.startswith("INPUT_")]:
        monkeypatch.delenv(name)
    return kit[1]


def given(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv("INPUT_" + name.upper().replace("-", "_"), value)


def refused(inputs, call, name: str, value: str) -> str:
    with pytest.raises(inputs.ActionFailure) as failure:
        call()
    assert failure.value.reason == "invalid-input"
    assert failure.value.message.startswith(name), failure.value.message  # the input is named first
    assert "\n" not in failure.value.message
    return failure.value.message


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("TRUE", True), ("yes", True), ("On", True),
                                                 ("1", True), ("false", False), ("No", False), ("off", False),
                                                 ("0", False), ("  true  ", True), ("", False)])
def test_boolean(inputs, monkeypatch, value, expected):
    given(monkeypatch, "allow-tag", value)
    assert inputs.boolean("allow-tag") is expected


@pytest.mark.parametrize("value", ["maybe", "2", "tru", "yes please", "true\nfalse", "не", "null"])
def test_boolean_refuses(inputs, monkeypatch, value):
    given(monkeypatch, "allow-tag", value)
    message = refused(inputs, lambda: inputs.boolean("allow-tag"), "allow-tag", value)
    assert message.startswith("allow-tag must be true or false, not ")


def test_a_missing_input_is_its_default(inputs):
    assert inputs.boolean("install-plugin", True) is True and inputs.text("mode", "canary") == "canary"
    assert inputs.integer("promote-up-to-step") is None and inputs.duration("timeout", "30m") == 1800.0


@pytest.mark.parametrize("value", ["two", "-1", "1.5", "٣", "1_000", "0x10", " 1 2", "+3", "601"])
def test_integer_refuses(inputs, monkeypatch, value):
    given(monkeypatch, "promote-up-to-step", value)
    refused(inputs, lambda: inputs.integer("promote-up-to-step", minimum=0, maximum=600), "promote-up-to-step", value)


def test_integer(inputs, monkeypatch):
    given(monkeypatch, "promote-up-to-step", " 007 ")
    assert inputs.integer("promote-up-to-step", minimum=0) == 7


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e3", "-0.5", "ten", "600.01"])
def test_number_refuses(inputs, monkeypatch, value):
    given(monkeypatch, "poll-interval", value)
    refused(inputs, lambda: inputs.number("poll-interval", 10.0, minimum=0, maximum=600), "poll-interval", value)


@pytest.mark.parametrize(("value", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("2h", 7200),
                                                ("1h0m5s", 3605)])
def test_duration(inputs, monkeypatch, value, seconds):
    given(monkeypatch, "timeout", value)
    assert inputs.duration("timeout", "30m") == seconds


@pytest.mark.parametrize("value", ["0", "0s", "15x", "m", "-5", "1.5m", "15 m", "1h 30m", "٣m", "30m10h", "5d"])
def test_duration_refuses(inputs, monkeypatch, value):
    given(monkeypatch, "timeout", value)
    refused(inputs, lambda: inputs.duration("timeout", "30m"), "timeout", value)


def test_choice_in_any_case(inputs, monkeypatch):
    given(monkeypatch, "promote", "AUTO")
    assert inputs.choice("promote", ("auto", "manual"), "manual") == "auto"


@pytest.mark.parametrize("value", ["autox", "auto manual", "--auto", "manual;auto"])
def test_choice_refuses(inputs, monkeypatch, value):
    given(monkeypatch, "promote", value)
    message = refused(inputs, lambda: inputs.choice("promote", ("auto", "manual"), "manual"), "promote", value)
    assert message.startswith('promote must be "auto" or "manual", not ')


def test_sha256_is_lower_cased(inputs, monkeypatch):
    given(monkeypatch, "plugin-sha256", "AB" * 32)
    assert inputs.sha256("plugin-sha256") == "ab" * 32


@pytest.mark.parametrize("value", ["a" * 63, "a" * 65, "g" * 64, "sha256:" + "a" * 64, "a" * 32 + " " + "a" * 32])
def test_sha256_refuses(inputs, monkeypatch, value):
    given(monkeypatch, "plugin-sha256", value)
    refused(inputs, lambda: inputs.sha256("plugin-sha256"), "plugin-sha256", value)


@pytest.mark.parametrize(("value", "loopback", "expected"), [
    ("https://mirror.example.test/r/", False, "https://mirror.example.test/r"),
    ("https://[2001:db8::1]:8443/r", False, "https://[2001:db8::1]:8443/r"),
    ("http://127.0.0.1:8080/r", True, "http://127.0.0.1:8080/r"),
    ("http://[::1]:8080/r/", True, "http://[::1]:8080/r"),
    ("http://localhost:9/r", True, "http://localhost:9/r"),
])
def test_url(inputs, monkeypatch, value, loopback, expected):
    given(monkeypatch, "download-url", value)
    assert inputs.url("download-url", loopback_http=loopback) == expected


@pytest.mark.parametrize("value", [
    "http://mirror.example.test/r", "http://10.0.0.1/r", "http://192.168.1.10/r", "http://172.16.0.1/r",
    "http://169.254.169.254/latest/meta-data", "http://[fd00::1]/r", "http://0.0.0.0/r",
    "http://127.0.0.1.nip.io/r", "http://localhost.example.test/r", "http://2130706433/r", "http://0x7f000001/r",
    "ftp://127.0.0.1/r", "file:///etc/passwd", "https://", "x", "//mirror.example.test/r",
    "https://user:secret@mirror.example.test/r", "https://mirror.example.test/a b", "https://mirror.example.test:x/r",
    "https://mirror.example.test/r?token=1", "https://mirror.example.test/r#f", "javascript:alert(1)",
])
def test_url_refuses_plain_http_beyond_loopback(inputs, monkeypatch, value):
    """Even where a loopback mirror is allowed: a private address, a name that looks like one, or
    any other scheme is refused."""
    given(monkeypatch, "download-url", value)
    message = refused(inputs, lambda: inputs.url("download-url", loopback_http=True), "download-url", value)
    assert message.startswith("download-url must be an https:// URL (plain http only for loopback), not ")


@pytest.mark.parametrize("value", ["http://127.0.0.1:8080/r", "http://localhost/r", "http://[::1]/r"])
def test_url_refuses_loopback_http_unless_allowed(inputs, monkeypatch, value):
    given(monkeypatch, "terraform-releases-url", value)
    message = refused(inputs, lambda: inputs.url("terraform-releases-url"), "terraform-releases-url", value)
    assert message == f'terraform-releases-url must be an https:// URL, not "{value}"'


def test_a_url_that_is_not_a_base_keeps_its_query(inputs, monkeypatch):
    given(monkeypatch, "certificate-oidc-issuer", "https://issuer.example.test/?tenant=1")
    assert inputs.url("certificate-oidc-issuer", base=False) == "https://issuer.example.test/?tenant=1"


def test_items(inputs, monkeypatch):
    given(monkeypatch, "sign-refs", "refs/heads/main, refs/tags/v*\n# a comment\n\n  refs/heads/release/*  ")
    assert inputs.items("sign-refs", separators=",") == ["refs/heads/main", "refs/tags/v*", "refs/heads/release/*"]
    given(monkeypatch, "branches", "#hash-branch\nmain")
    assert inputs.items("branches", comments=False) == ["#hash-branch", "main"]


@pytest.mark.parametrize(("value", "expected"), [("", "."), (".", "."), ("./infra/", "infra"), ("infra\\prod", "infra/prod"),
                                                 ("a//b", "a/b")])
def test_relative_path(inputs, monkeypatch, value, expected):
    given(monkeypatch, "working-directory", value)
    assert inputs.relative_path("working-directory") == expected


@pytest.mark.parametrize("value", ["/etc", "../x", "a/../../b", "..\\..\\etc", "infra/..", "a\x01b", "a\nb", "~/../x"])
def test_relative_path_refuses(inputs, monkeypatch, value):
    given(monkeypatch, "working-directory", value)
    message = refused(inputs, lambda: inputs.relative_path("working-directory"), "working-directory", value)
    assert message.startswith("working-directory must be a path inside the workspace, not ")


def test_a_link_out_of_the_workspace_is_refused(inputs, monkeypatch, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "ws" / "infra").symlink_to(tmp_path / "outside")
    (tmp_path / "ws" / "real").mkdir()
    (tmp_path / "ws" / "inside").symlink_to(tmp_path / "ws" / "real")
    given(monkeypatch, "working-directory", "infra")
    refused(inputs, lambda: inputs.workspace_path("working-directory", kind="dir"), "working-directory", "infra")
    given(monkeypatch, "working-directory", "inside")
    assert inputs.workspace_path("working-directory", kind="dir") == tmp_path / "ws" / "real"


def test_a_missing_path_fails_with_the_callers_reason(inputs, monkeypatch, tmp_path):
    (tmp_path / "ws" / "a-dir").mkdir()
    given(monkeypatch, "ignore-file", ".github/trivy-ignore")
    with pytest.raises(inputs.ActionFailure) as failure:
        inputs.workspace_path("ignore-file", kind="file", missing="ignore-file-invalid")
    assert (failure.value.reason, failure.value.message) == ("ignore-file-invalid",
                                                             'ignore-file ".github/trivy-ignore" does not exist')
    given(monkeypatch, "ignore-file", "a-dir")
    with pytest.raises(inputs.ActionFailure) as failure:
        inputs.workspace_path("ignore-file", kind="file", missing="ignore-file-invalid")
    assert failure.value.message == 'ignore-file "a-dir" is not a file'


def test_a_value_is_shown_on_one_line_and_cut(inputs, monkeypatch):
    given(monkeypatch, "mode", "x" * 500 + '\n::error::"injected"')
    message = refused(inputs, lambda: inputs.choice("mode", ("canary", "rollback"), "canary"), "mode", "")
    assert message.endswith('…"') and len(message) < 300
    assert inputs.quote('a\n::warning::b"c') == '"a\\n::warning::b\\"c"'


def test_a_variable_named_otherwise(inputs, monkeypatch):
    monkeypatch.setenv("INPUT_RELEASES_URL", "http://releases.example.test")
    message = refused(inputs, lambda: inputs.url("terraform-releases-url", var="INPUT_RELEASES_URL"),
                      "terraform-releases-url", "")
    assert "INPUT_RELEASES_URL" not in message


def test_variable_names(inputs):
    assert inputs.variable("allow-tag") == "INPUT_ALLOW_TAG"
    assert inputs.variable("certificate-github-workflow-ref") == "INPUT_CERTIFICATE_GITHUB_WORKFLOW_REF"
    assert Path(inputs.__file__).parent.name == "_lib"
