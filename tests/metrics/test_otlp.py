"""Traces over OTLP/HTTP, received by a real endpoint on 127.0.0.1 that parses them with opentelemetry-proto."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest

from support.otlp import OTLPReceiver

from .conftest import TOKEN, UNTIL_TEXT


def ts_ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


@pytest.fixture
def collector():
    with OTLPReceiver() as receiver:
        yield receiver


def send(cli, env, collector, *args: str):
    done = cli("metrics", "org/app", "--until", UNTIL_TEXT, "--no-tests", "--format", "json", "--output",
               "/dev/null", "--otlp-endpoint", collector.url, *args, env=env)
    assert "Traceback" not in done.stderr
    return done


def attrs(span) -> dict:
    out = {}
    for kv in span.attributes:
        value = kv.value
        kind = value.WhichOneof("value")
        out[kv.key] = [v.string_value for v in value.array_value.values] if kind == "array_value" \
            else getattr(value, kind)
    return out


def test_one_trace_per_run_with_job_and_step_spans(cli, env, collector, scenario):
    done = send(cli, env, collector)
    assert done.returncode == 0, done.stderr
    data = scenario.pipelines.data
    completed = [r for r in data.runs if r["status"] == "completed"]
    spans = collector.spans()
    traces = defaultdict(list)
    for resource, span in spans:
        assert resource["service.name"] == "org/app"
        traces[span.trace_id].append(span)
    assert len(traces) == len(completed)  # runs in progress are sent once they complete
    by_run = {}
    for trace in traces.values():
        roots = [s for s in trace if not s.parent_span_id]
        assert len(roots) == 1
        by_run[attrs(roots[0])["cicd.pipeline.run.id"]] = trace
    for run in completed:
        trace = by_run[run["id"]]
        root = next(s for s in trace if not s.parent_span_id)
        assert root.name == run["name"] and root.kind == root.SPAN_KIND_SERVER
        assert root.start_time_unix_nano == ts_ns(run["created_at"])
        assert root.status.code == (root.status.STATUS_CODE_ERROR if run["conclusion"] == "failure"
                                    else root.status.STATUS_CODE_OK)
        a = attrs(root)
        assert (a["vcs.ref.head.name"], a["vcs.ref.head.revision"], a["github.run_attempt"]) == \
            (run["head_branch"], run["head_sha"], run["run_attempt"])
        jobs = {s.span_id: s for s in trace if s.parent_span_id == root.span_id}
        served = data.jobs[run["id"]]
        assert len(jobs) == len(served)
        for job in served:
            span = next(s for s in jobs.values() if attrs(s)["cicd.pipeline.task.run.id"] == job["id"])
            expected = job["name"] if job["run_attempt"] == run["run_attempt"] else \
                f"{job['name']} (attempt {job['run_attempt']})"
            assert span.name == expected
            assert (span.start_time_unix_nano, span.end_time_unix_nano) == (ts_ns(job["started_at"]),
                                                                          ts_ns(job["completed_at"]))
            assert root.start_time_unix_nano <= span.start_time_unix_nano <= span.end_time_unix_nano \
                <= root.end_time_unix_nano
            assert attrs(span)["github.runner.labels"] == job["labels"]
            assert [e.name for e in span.events] == ["queued"]
            steps = sorted((s for s in trace if s.parent_span_id == span.span_id), key=lambda s: s.start_time_unix_nano)
            assert [s.name for s in steps] == [st["name"] for st in job["steps"]]
            for step, st in zip(steps, job["steps"], strict=True):
                assert step.start_time_unix_nano == ts_ns(st["started_at"])
                assert step.end_time_unix_nano == ts_ns(st["completed_at"])
                failed = st["conclusion"] == "failure"
                assert step.status.code == (step.status.STATUS_CODE_ERROR if failed else step.status.STATUS_CODE_OK)
    assert f"sent {len(spans)} spans of {len(completed)} runs" in done.stderr
    headers = collector.headers[0]
    assert headers["content-type"] == "application/x-protobuf" and headers["content-encoding"] == "gzip"


def test_a_warm_run_sends_only_new_runs_and_resend_sends_all(cli, env, collector, scenario):
    assert send(cli, env, collector).returncode == 0
    first = len(collector.requests)
    again = send(cli, env, collector)
    assert again.returncode == 0 and len(collector.requests) == first
    assert "sent 0 spans of 0 runs" in again.stderr
    assert send(cli, env, collector, "--otlp-resend").returncode == 0
    assert len(collector.requests) == 2 * first


def test_the_token_reaches_neither_payload_nor_headers_and_collector_headers_stay_secret(cli, env, collector, api,
                                                                                          scenario):
    run = api.repos["org/app"].actions.runs[-5]
    original = run["display_title"]
    run["display_title"] = f"echo {TOKEN} by mistake"
    try:
        done = send(cli, {**env, "GITHUB_TOKEN": TOKEN}, collector, "--otlp-header", "Authorization=Bearer s3cr3t-otlp")
    finally:
        run["display_title"] = original
    assert done.returncode == 0, done.stderr
    assert all(TOKEN.encode() not in body for body in collector.bodies)
    assert any(b"echo *** by mistake" in body for body in collector.bodies)
    assert all(TOKEN not in str(h) for h in collector.headers)
    assert collector.headers[0]["authorization"] == "Bearer s3cr3t-otlp"
    assert TOKEN not in done.stdout + done.stderr and "s3cr3t-otlp" not in done.stdout + done.stderr


def test_a_busy_collector_is_retried_after_its_retry_after(cli, env, collector):
    collector.fail("503", times=2, value=1)
    done = send(cli, env, collector)
    assert done.returncode == 0, done.stderr
    assert collector.attempts == len(collector.requests) + 2


def test_a_refusing_collector_fails_with_its_message_in_one_line(cli, env, collector):
    collector.fail("400", times=1)
    done = send(cli, env, collector, "--otlp-header", "Authorization=Bearer s3cr3t-otlp")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert lines == [f"ci-tools metrics: error: the OTLP collector at {collector.url}/v1/traces answered HTTP 400: "
                     "the collector refuses this batch"]


def test_a_partial_success_is_reported_not_retried(cli, env, collector):
    collector.reject = 3
    done = send(cli, env, collector)
    assert done.returncode == 0
    assert "rejected" in done.stderr and "spans older than the retention were dropped" in done.stderr
    assert collector.attempts == len(collector.requests)


def test_an_unreachable_collector_is_a_clear_fatal_error(cli, env, collector):
    url = collector.url
    collector.stop()
    done = cli("metrics", "org/app", "--until", UNTIL_TEXT, "--no-tests", "--output", "/dev/null",
               "--otlp-endpoint", url, env={**env, "CI_TOOLS_HTTP_BACKOFF": "0.01"})
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert "could not take the traces after 5 attempts: connection failed" in done.stderr
