"""OpenTelemetry traces of the runs, sent to a collector over OTLP/HTTP (binary protobuf).

One trace per run: the run is the root span (kind SERVER, from its creation, so the wait for a runner
shows, to the end of its last job), each job of each attempt a child span (earlier attempts named
``job (attempt N)``) and each step a child of its job, all with the times GitHub recorded, statuses
(``ERROR`` for failure, timed out and startup failure; ``OK`` for success; unset otherwise) and the
attributes of OpenTelemetry's CI/CD semantic conventions (``cicd.pipeline.*``, ``cicd.worker.name``,
``vcs.ref.head.*``) plus ``github.*`` for what they lack (event, attempt, runner labels, queue time).
One resource per repository (``service.name`` is its full name).

Trace and span ids are derived from the repository, run, job and step (SHA-256), so sending a run
twice yields the same ids; the cache remembers which completed attempts went to which endpoint and a
warm run sends only the new ones (``--otlp-resend`` sends all again).

The messages are those of the ``opentelemetry-proto`` package (``ExportTraceServiceRequest``); the
protocol is OTLP/HTTP as its specification describes it (``docs/specification.md`` of
open-telemetry/opentelemetry-proto): ``POST {endpoint}/v1/traces``, ``Content-Type:
application/x-protobuf``, the body gzip-compressed (``Content-Encoding: gzip``), at most 64 MiB before
compression (larger batches are split); 429, 502, 503 and 504 are retried, honouring ``Retry-After``,
within a bound; other answers fail with the collector's ``Status.message``; a partial success is
reported, not retried; an answer is read to at most 4 MiB. Every string sent is redacted
(:func:`ci_tools.core.redact.redact`): a token never reaches the collector; the headers given for it
(``--otlp-header``, ``OTEL_EXPORTER_OTLP_HEADERS``) never appear in messages.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from ci_tools.core.redact import redact, register
from ci_tools.metrics.errors import MetricsError, MetricsUsageError
from ci_tools.metrics.model import FAILED, Job, Repository, Run

MAX_REQUEST_BYTES = 64 * 1024 * 1024
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
RETRYABLE = (429, 502, 503, 504)
RESULTS = {"success": "success", "failure": "failure", "timed_out": "timeout", "cancelled": "cancellation",
           "skipped": "skip", "startup_failure": "error", "action_required": "error", "neutral": "success",
           "stale": "cancellation"}


def traces_url(endpoint: str) -> str:
    """The URL to POST to: ``endpoint`` as given when it has a path, else ``endpoint/v1/traces``."""
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MetricsUsageError(f'--otlp-endpoint "{endpoint}" is not an http:// or https:// URL')
    if parts.username or parts.password:
        raise MetricsUsageError("--otlp-endpoint must not carry credentials; give them with --otlp-header")
    base = endpoint.strip().rstrip("/")
    return base + "/v1/traces" if parts.path in ("", "/") else base


def parse_headers(pairs: list[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``KEY=VALUE`` pairs, after those of ``OTEL_EXPORTER_OTLP_HEADERS`` and ``..._TRACES_HEADERS``
    (comma-separated, values percent-decoded, as OpenTelemetry's exporters read them)."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    headers: dict[str, str] = {}
    items: list[tuple[str, str]] = []
    for variable in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"):
        for item in (env.get(variable) or "").split(","):
            if item.strip():
                items.append((variable, item))
    items += [("--otlp-header", pair) for pair in pairs]
    for source, item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if source != "--otlp-header":
            key, value = unquote(key), unquote(value)
        if not sep or not key or any(ch in key for ch in " \t\r\n:") or any(ch in value for ch in "\r\n"):
            raise MetricsUsageError(f"{source}: a header must be KEY=VALUE on one line (the value is not shown)")
        register(value)
        headers[key] = value
    return headers


def _hash(size: int, *parts: object) -> bytes:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()[:size]
    return digest if any(digest) else b"\x01" + digest[1:]


def trace_id(repo: str, run_id: int) -> bytes:
    return _hash(16, "trace", repo.lower(), run_id)


def span_id(*parts: object) -> bytes:
    return _hash(8, "span", *parts)


def _ns(seconds: float) -> int:
    return int(round(seconds * 1_000_000_000))


class _Builder:
    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        from opentelemetry.proto.common.v1 import common_pb2
        from opentelemetry.proto.trace.v1 import trace_pb2

        self.trace_pb2, self.common_pb2, self.service_pb2 = trace_pb2, common_pb2, trace_service_pb2

    def attr(self, key: str, value: object):
        any_value = self.common_pb2.AnyValue()
        if isinstance(value, bool):
            any_value.bool_value = value
        elif isinstance(value, int):
            any_value.int_value = value
        elif isinstance(value, float):
            any_value.double_value = value
        elif isinstance(value, list):
            any_value.array_value.values.extend(self.common_pb2.AnyValue(string_value=redact(str(v))) for v in value)
        else:
            any_value.string_value = redact(str(value))
        return self.common_pb2.KeyValue(key=key, value=any_value)

    def attrs(self, pairs: dict) -> list:
        return [self.attr(k, v) for k, v in pairs.items() if v is not None and v != ""]

    def status(self, conclusion: str | None):
        status = self.trace_pb2.Status()
        if conclusion in FAILED:
            status.code = self.trace_pb2.Status.STATUS_CODE_ERROR
            status.message = conclusion or ""
        elif conclusion == "success":
            status.code = self.trace_pb2.Status.STATUS_CODE_OK
        return status

    def run_spans(self, run: Run) -> list:
        span_cls = self.trace_pb2.Span
        tid = trace_id(run.repo, run.id)
        root_id = span_id(run.repo.lower(), run.id)
        ends = [j.completed for j in run.jobs if j.completed is not None]
        end = max(ends + [run.updated or run.created])
        spans = [span_cls(
            trace_id=tid, span_id=root_id, name=redact(run.workflow), kind=span_cls.SPAN_KIND_SERVER,
            start_time_unix_nano=_ns(run.created), end_time_unix_nano=_ns(max(end, run.created)),
            status=self.status(run.conclusion),
            attributes=self.attrs({
                "cicd.pipeline.name": run.workflow, "cicd.pipeline.run.id": run.id,
                "cicd.pipeline.run.url.full": run.url, "cicd.pipeline.result": RESULTS.get(run.conclusion or ""),
                "vcs.ref.head.name": run.branch, "vcs.ref.head.revision": run.sha, "github.event": run.event,
                "github.run_number": run.number, "github.run_attempt": run.attempt, "github.workflow.path": run.path,
                "github.display_title": run.title}))]
        for job in run.jobs:
            spans.extend(self.job_spans(run, job, tid, root_id))
        return spans

    def job_spans(self, run: Run, job: Job, tid: bytes, parent: bytes) -> list:
        if job.started is None or job.completed is None:
            return []  # never ran (skipped, or still queued)
        span_cls = self.trace_pb2.Span
        jid = span_id(run.repo.lower(), run.id, "job", job.id)
        name = job.name if job.attempt == run.attempt else f"{job.name} (attempt {job.attempt})"
        span = span_cls(
            trace_id=tid, span_id=jid, parent_span_id=parent, name=redact(name), kind=span_cls.SPAN_KIND_INTERNAL,
            start_time_unix_nano=_ns(job.started), end_time_unix_nano=_ns(max(job.completed, job.started)),
            status=self.status(job.conclusion),
            attributes=self.attrs({
                "cicd.pipeline.task.name": job.name, "cicd.pipeline.task.run.id": job.id,
                "cicd.pipeline.task.run.url.full": job.url, "cicd.pipeline.task.run.result": RESULTS.get(job.conclusion or ""),
                "cicd.worker.name": job.runner, "github.run_attempt": job.attempt, "github.runner.labels": job.labels,
                "github.job.queue_seconds": job.queue}))
        if job.created is not None:
            span.events.append(span_cls.Event(time_unix_nano=_ns(job.created), name="queued"))
        out = [span]
        for step in job.steps:
            if step.started is None or step.completed is None:
                continue
            out.append(span_cls(
                trace_id=tid, span_id=span_id(run.repo.lower(), run.id, "job", job.id, "step", step.number),
                parent_span_id=jid, name=redact(step.name), kind=span_cls.SPAN_KIND_INTERNAL,
                start_time_unix_nano=_ns(step.started), end_time_unix_nano=_ns(max(step.completed, step.started)),
                status=self.status(step.conclusion),
                attributes=self.attrs({"github.step.name": step.name, "github.step.number": step.number,
                                       "cicd.pipeline.task.run.result": RESULTS.get(step.conclusion or "")})))
        return out

    def request(self, runs: list[Run], repos: dict[str, Repository]):
        from ci_tools import __version__

        request = self.service_pb2.ExportTraceServiceRequest()
        by_repo: dict[str, list[Run]] = {}
        for run in runs:
            by_repo.setdefault(run.repo, []).append(run)
        for name, group in by_repo.items():
            repo = repos.get(name)
            resource_spans = request.resource_spans.add()
            resource_spans.resource.attributes.extend(self.attrs({
                "service.name": name, "service.namespace": name.split("/", 1)[0],
                "vcs.repository.name": name.split("/", 1)[-1],
                "vcs.repository.url.full": repo.html_url if repo else ""}))
            scope = resource_spans.scope_spans.add()
            scope.scope.name = "ci-tools.metrics"
            scope.scope.version = __version__
            for run in group:
                scope.spans.extend(self.run_spans(run))
        return request


@dataclass
class ExportResult:
    url: str
    runs: int = 0
    spans: int = 0
    requests: int = 0
    rejected_spans: int = 0
    messages: list[str] = field(default_factory=list)
    exported: list[Run] = field(default_factory=list)


def batches(runs: list[Run], repos: dict[str, Repository], size: int = 100) -> list[tuple[list[Run], bytes, int]]:
    """(runs, serialized request, spans) per batch of at most ``size`` runs, each under the size limit."""
    builder = _Builder()
    out: list[tuple[list[Run], bytes, int]] = []

    def add(group: list[Run]) -> None:
        request = builder.request(group, repos)
        body = request.SerializeToString()
        if len(body) > MAX_REQUEST_BYTES:
            if len(group) == 1:
                raise MetricsError(f"the trace of run {group[0].id} is larger than {MAX_REQUEST_BYTES} bytes; not sent")
            add(group[: len(group) // 2])
            add(group[len(group) // 2:])
            return
        spans = sum(len(s.spans) for rs in request.resource_spans for s in rs.scope_spans)
        out.append((group, body, spans))

    for start in range(0, len(runs), size):
        add(runs[start: start + size])
    return out


def export(endpoint: str, headers: dict[str, str], runs: list[Run], repos: dict[str, Repository], *,
           timeout: float = 20.0, attempts: int = 5, backoff: float = 1.0, max_wait: float = 120.0,
           batch: int = 100) -> ExportResult:
    """Send the traces of ``runs`` (completed ones) to ``endpoint``; raises MetricsError when the collector
    refuses or cannot be reached after the retries."""
    import requests

    url = traces_url(endpoint)
    result = ExportResult(redact(url))
    todo = [r for r in runs if r.complete]
    if not todo:
        return result
    session = requests.Session()
    session.trust_env = url.startswith("https://")
    base = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip", "User-Agent": "ci-tools"}
    try:
        for group, body, spans in batches(todo, repos, batch):
            payload = gzip.compress(body, compresslevel=6)
            answer = _post(session, url, {**headers, **base}, payload, timeout, attempts, backoff, max_wait, result)
            result.requests += 1
            result.runs += len(group)
            result.spans += spans
            result.exported.extend(group)
            _partial(answer, result)
    finally:
        session.close()
    return result


def _post(session, url: str, headers: dict, payload: bytes, timeout: float, attempts: int, backoff: float,
          max_wait: float, result: ExportResult) -> bytes:
    import requests

    where = result.url
    problem = "no attempt made"
    for attempt in range(attempts):
        wait = backoff * (2 ** attempt)
        try:
            resp = session.post(url, data=payload, headers=headers, timeout=timeout, stream=True)
            body = _bounded(resp)
        except requests.Timeout:
            problem = "timed out"
        except requests.ConnectionError as exc:
            problem = "connection failed" if "refused" in str(exc).lower() else "connection dropped"
        else:
            if resp.status_code == 200:
                return body
            message = _status_message(body) or resp.reason or ""
            if resp.status_code not in RETRYABLE:
                raise MetricsError(redact(f"the OTLP collector at {where} answered HTTP {resp.status_code}"
                                          + (f": {message}" if message else "")))
            problem = f"HTTP {resp.status_code}" + (f": {message}" if message else "")
            after = _retry_after(resp.headers.get("Retry-After"))
            if after is not None:
                if after > max_wait:
                    raise MetricsError(redact(f"the OTLP collector at {where} asks to wait {after:.0f}s "
                                              f"(more than {max_wait:.0f}s): {problem}"))
                wait = after
        if attempt + 1 < attempts:
            time.sleep(min(wait, max_wait))
    raise MetricsError(redact(f"the OTLP collector at {where} could not take the traces after {attempts} "
                              f"attempts: {problem}"))


def _bounded(resp) -> bytes:
    from ci_tools.core.http import TooLarge, read_bounded

    try:
        return read_bounded(resp, MAX_RESPONSE_BYTES)
    except TooLarge:
        raise MetricsError(f"the OTLP collector's answer is larger than {MAX_RESPONSE_BYTES} bytes; not read") from None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _status_message(body: bytes) -> str:
    """``google.rpc.Status.message`` (field 2) of an error answer, read by hand: the package of that message
    is not a dependency. Anything unreadable gives an empty message."""
    i, n = 0, len(body)
    try:
        while i < n:
            key, i = _varint(body, i)
            field_number, wire = key >> 3, key & 7
            if wire == 0:
                _, i = _varint(body, i)
            elif wire == 2:
                length, i = _varint(body, i)
                chunk, i = body[i: i + length], i + length
                if field_number == 2:
                    text = chunk.decode("utf-8", "replace")
                    return "".join(ch if ch.isprintable() else " " for ch in text)[:300]
            elif wire == 5:
                i += 4
            elif wire == 1:
                i += 8
            else:
                return ""
    except IndexError:
        return ""
    return ""


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise IndexError("varint too long")


def _partial(body: bytes, result: ExportResult) -> None:
    if not body:
        return
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    response = trace_service_pb2.ExportTraceServiceResponse()
    try:
        response.ParseFromString(body)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError; any unreadable answer is only noted
        result.messages.append("the collector's answer could not be read as an ExportTraceServiceResponse")
        return
    if response.HasField("partial_success"):
        result.rejected_spans += response.partial_success.rejected_spans
        if response.partial_success.error_message:
            result.messages.append(redact("".join(ch if ch.isprintable() else " "
                                                  for ch in response.partial_success.error_message)[:300]))
