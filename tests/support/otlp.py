"""An OpenTelemetry trace receiver on 127.0.0.1 speaking OTLP/HTTP, built on the official protocol definitions.

The OpenTelemetry Collector cannot be installed here (a Go build); this receiver plays its OTLP/HTTP
trace endpoint as the protocol's specification describes it (``docs/specification.md`` of
open-telemetry/opentelemetry-proto, section "OTLP/HTTP"), and parses every body with the messages of
the ``opentelemetry-proto`` package (``ExportTraceServiceRequest``), so a payload the real collector
would refuse is refused here too:

- ``POST /v1/traces`` only (404 elsewhere, 405 for other methods); ``Content-Type:
  application/x-protobuf`` (``application/json`` is not played: 415); ``Content-Encoding: gzip``
  decompressed; a body over :attr:`OTLPReceiver.max_body` (64 MiB, also after decompression) is 413;
- a body that does not parse is 400 with a ``google.rpc.Status`` body (encoded by hand: that
  message's package is not installed) whose ``message`` says why;
- success is 200 with an ``ExportTraceServiceResponse``; with :attr:`OTLPReceiver.reject` set, a
  partial success that rejects that many spans;
- faults (:meth:`OTLPReceiver.fail`): ``503`` or ``429`` with ``Retry-After``, ``400``, for the
  next ``times`` requests.

Everything received is kept: :attr:`requests` (parsed), :attr:`bodies` (decompressed bytes) and
:attr:`headers`, for the tests to check spans, parents, times, statuses and that no token came along.
The server is :class:`support.httpd.LoopbackServer`.
"""

from __future__ import annotations

import zlib

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from support.httpd import Handler, LoopbackServer


def rpc_status(code: int, message: str) -> bytes:
    """``google.rpc.Status{code, message}`` in protobuf wire format (fields 1 varint, 2 string)."""
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte = n & 0x7F
            n >>= 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)
    text = message.encode()
    return b"\x08" + varint(code) + b"\x12" + varint(len(text)) + text


class OTLPReceiver(LoopbackServer):
    def __init__(self, max_body: int = 64 * 1024 * 1024) -> None:
        super().__init__()
        self.max_body = max_body
        self.requests: list = []
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.attempts = 0
        self.reject = 0

    def fail(self, kind: str, times: int = 1, value: float = 1.0) -> None:  # type: ignore[override]
        """The next ``times`` requests (whatever their path) get fault ``kind``."""
        super().fail("", kind, times, value)

    def spans(self) -> list[tuple[dict, object]]:
        """Every span received, with its resource's attributes as a dict."""
        out = []
        for request in self.requests:
            for rs in request.resource_spans:
                resource = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
                for ss in rs.scope_spans:
                    out.extend((resource, span) for span in ss.spans)
        return out


class _Handler(Handler):
    owner: OTLPReceiver
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send(status, body, {"Content-Type": "application/x-protobuf", **(headers or {})})

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._send(405, rpc_status(12, "only POST is accepted"), {"Allow": "POST"})

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        if length > owner.max_body:
            self.close_connection = True
            return self._send(413, rpc_status(8, "request body too large"))
        raw = self.rfile.read(length)
        with owner.lock:
            owner.attempts += 1
        if self.path.split("?", 1)[0] != "/v1/traces":
            return self._send(404, rpc_status(5, "not found"))
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-protobuf":
            return self._send(415, rpc_status(3, "unsupported content type"))
        fault = self.take_fault()
        if fault is not None:
            if fault.kind in ("503", "429"):
                return self._send(int(fault.kind), rpc_status(14, "busy, retry later"),
                                  {"Retry-After": str(int(fault.value))})
            if fault.kind == "400":
                return self._send(400, rpc_status(3, "the collector refuses this batch"))
            raise ValueError(fault.kind)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body = decoder.decompress(raw, owner.max_body + 1)
            except zlib.error as exc:
                return self._send(400, rpc_status(3, f"bad gzip body: {exc}"))
            if len(body) > owner.max_body:
                return self._send(413, rpc_status(8, "request body too large after decompression"))
        elif self.headers.get("Content-Encoding"):
            return self._send(415, rpc_status(3, "unsupported content encoding"))
        else:
            body = raw
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError
            return self._send(400, rpc_status(3, f"cannot parse ExportTraceServiceRequest: {exc}"))
        with owner.lock:
            owner.requests.append(request)
            owner.bodies.append(body)
            owner.headers.append({k.lower(): v for k, v in self.headers.items()})
        response = trace_service_pb2.ExportTraceServiceResponse()
        if owner.reject:
            response.partial_success.rejected_spans = owner.reject
            response.partial_success.error_message = "spans older than the retention were dropped"
        self._send(200, response.SerializeToString())



OTLPReceiver.handler = _Handler
