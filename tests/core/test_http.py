"""core.http.read_bounded against a real loopback server: an answer that states, or only turns out,
to be larger than the bound is refused and closed, never read whole."""

from __future__ import annotations

import pytest
import requests

from ci_tools.core.http import TooLarge, read_bounded
from support.httpd import Handler, LoopbackServer


class Answers(Handler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path == "/declared":
            self.send(200, b"x" * 5000)  # Content-Length: 5000
        elif self.path == "/chunked":  # no length stated: only the bytes tell
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"64\r\n" + b"y" * 100 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send(200, b"small")


@pytest.mark.parametrize(("path", "declared"), [("/declared", 5000), ("/chunked", None)])
def test_a_larger_answer_is_refused(path: str, declared: int | None):
    with LoopbackServer(Answers) as server:
        resp = requests.get(server.url + path, stream=True, timeout=10)
        with pytest.raises(TooLarge) as raised:
            read_bounded(resp, 1000)
        assert raised.value.declared == declared


def test_an_answer_within_the_bound_is_read_whole():
    with LoopbackServer(Answers) as server:
        assert read_bounded(requests.get(server.url + "/small", stream=True, timeout=10), 5) == b"small"
