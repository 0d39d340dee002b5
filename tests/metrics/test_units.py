"""The pieces of the metrics domain in isolation: statistics, trends, listing plans, runners, escaping, JUnit."""

from __future__ import annotations

import pytest

from ci_tools.metrics import analyse, junit, markdown
from ci_tools.metrics.cache import OVERLAP
from ci_tools.metrics.collect import missing
from ci_tools.metrics.errors import MetricsUsageError
from ci_tools.metrics.timeutil import parse_duration, parse_since


def test_percentiles_interpolate_between_ranks():
    assert analyse.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert analyse.percentile([10], 0.9) == 10
    assert analyse.percentile([0, 10], 0.9) == 9.0
    assert analyse.distribution([]) is None
    assert analyse.distribution([3, 1, 2]) == {"p50": 2, "p90": 2.8, "max": 3, "count": 3}


@pytest.mark.parametrize("weekly,direction,change", [
    ([[120, 120, 120], [60, 60, 60], [60, 60, 60]], "slower", 100.0),
    ([[50, 50, 50], [100, 100, 100]], "faster", -50.0),
    ([[104, 104, 104], [100, 100, 100]], "steady", 4.0),
    ([[6, 6, 6], [5, 5, 5]], "steady", 20.0),  # +20 % but one second: within the API's resolution
])
def test_trends_compare_the_newest_week_with_the_weeks_before(weekly, direction, change):
    t = analyse.trend(weekly)
    assert (t["direction"], t["change_percent"]) == (direction, change)


def test_a_trend_needs_enough_samples():
    assert analyse.trend([[1, 2], [1, 2, 3]]) is None
    assert analyse.trend([[1, 2, 3], [1, 2]]) is None
    assert analyse.trend([[1, 2, 3]]) is None


def test_weeks_end_at_the_window_end_and_the_oldest_may_be_short():
    weeks = analyse.Weeks(since=0, until=30 * 86400)
    assert weeks.count == 5
    assert weeks.index(30 * 86400 - 1) == 0 and weeks.index(0) == 4 and weeks.index(-1) is None
    assert weeks.start(4) == 0 and weeks.start(0) == 23 * 86400


def test_the_listing_plan_covers_only_what_is_missing():
    assert missing([], None, 100, 1000) == [(100, 1000)]
    # covered 0..5000: only its last OVERLAP seconds and what follows are listed again
    assert missing([[0, 5000]], None, 100, 9000) == [(5000 - OVERLAP, 9000)]
    # a window reaching before the covered stretch: that part too
    assert missing([[2000, 5000]], None, 100, 9000) == [(100, 2000), (5000 - OVERLAP, 9000)]
    # a run in progress at 3000: everything from it on again
    assert missing([[0, 5000]], 3000, 100, 9000) == [(2999, 9000)]
    # a historic window inside the covered stretch: nothing
    assert missing([[0, 5000]], None, 100, 4000) == []


@pytest.mark.parametrize("labels,name,family,rate", [
    (["ubuntu-latest"], "ubuntu-latest", "linux", 0.008),
    (["windows-2022"], "windows-2022", "windows", 0.016),
    (["macos-14"], "macos-14", "macos", 0.08),
    (["ubuntu-22.04-8-cores"], "ubuntu-22.04-8-cores", "linux", 0.032),
    (["self-hosted", "linux", "gpu"], "self-hosted: linux, gpu", "self-hosted", 0.0),
    ([], "unknown", "linux", 0.008),
])
def test_runner_types_and_rates(labels, name, family, rate):
    assert analyse.runner_type(labels) == (name, family)
    assert analyse.rate_for(name, family, analyse.DEFAULT_RATES) == pytest.approx(rate)


def test_a_rate_given_for_a_runner_type_wins_over_its_family():
    rates = {**analyse.DEFAULT_RATES, "ubuntu-latest": 0.001, "linux": 0.004}
    assert analyse.rate_for("ubuntu-latest", "linux", rates) == 0.001
    assert analyse.rate_for("ubuntu-24.04", "linux", rates) == 0.004


@pytest.mark.parametrize("raw,escaped", [
    ("a|b", "a\\|b"),
    ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ("@team", "@&#8203;team"),
    ("#12", "#&#8203;12"),
    ("[a](javascript:x)", "\\[a\\](javascript\\:x)"),
    ("line\nbreak", "line break"),
    ("bidi\u202eevil", "bidi\ufffdevil"),
    ("esc\x1b[31m", "esc\ufffd\\[31m"),
    ("`code`", "\\`code\\`"),
    ("$x$ ~~y~~ **z**", "\\$x\\$ \\~\\~y\\~\\~ \\*\\*z\\*\\*"),
    ("a & b", "a &amp; b"),
])
def test_text_escapes_markdown_html_mentions_and_control_characters(raw, escaped):
    assert markdown.text(raw) == escaped


def test_long_values_are_cut():
    assert markdown.text("x" * 500, limit=10) == "x" * 9 + "…"


@pytest.mark.parametrize("raw,label", [
    ('a"b', "a b"), ("x%%{init}%%", "x init"), ("line\nclick x", "line click x"), ("", "?"),
    ("test (3.12)", "test (3.12)"), ("é/ü:1", "é/ü:1"),
])
def test_mermaid_labels_keep_only_safe_characters(raw, label):
    assert markdown.label(raw) == label


def test_links_only_for_safe_https_urls():
    assert markdown.link("x", "https://github.com/o/r/actions/runs/1") == "[x](https://github.com/o/r/actions/runs/1)"
    for bad in ("javascript:alert(1)", "http://github.com/x", "https://x/a b", "https://x/(a)", None, 5):
        assert markdown.link("x", bad) == "x"


@pytest.mark.parametrize("seconds,shown", [(None, "–"), (0.25, "0.2s"), (0.004, "4 ms"), (42, "42s"), (65, "1m 05s"),
                                           (7384, "2h 03m")])
def test_durations_read_like_durations(seconds, shown):
    assert markdown.duration(seconds) == shown


def test_durations_and_windows_parse_or_say_what_is_wrong():
    assert parse_duration("30d", "--since") == 30 * 86400
    assert parse_duration("90m", "x") == 5400 and parse_duration("2w", "x") == 14 * 86400
    assert parse_since("2026-03-01", 0) == 1772323200
    for bad in ("30", "-1d", "0d", "soon"):
        with pytest.raises(MetricsUsageError, match="is not a duration"):
            parse_duration(bad, "--alert-red-after")


def test_junit_of_surefire_with_retried_failures():
    xml = (b'<testsuite name="s"><testcase classname="a.B" name="t1" time="1,234.5">'
           b'<flakyFailure message="x"/><flakyFailure message="y"/></testcase>'
           b'<testcase name="t2" time="nan"><error/></testcase><testcase name="t3" time="-1"><skipped/></testcase>'
           b"</testsuite>")
    results = junit.parse_xml(xml)
    assert [(r.id, r.outcome, r.duration, r.retried) for r in results] == [
        ("a.B::t1", "passed", 1234.5, 2), ("s::t2", "failed", 0.0, 0), ("s::t3", "skipped", 0.0, 0)]


def test_junit_nested_too_deep_is_bad_xml():
    xml = b"<testsuite>" + b"<x>" * 100 + b"</x>" * 100 + b"</testsuite>"
    with pytest.raises(junit.ArtifactSkip) as caught:
        junit.parse_xml(xml)
    assert caught.value.reason == "bad-xml" and "nested deeper than 64" in caught.value.detail
