"""`pin --images` against a real registry (Debian's docker-registry, htpasswd auth) on 127.0.0.1."""

from __future__ import annotations

import pytest

from support import registry
from support.httpd import Handler, LoopbackServer
from support.pinworld import write

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    if not registry.available():
        pytest.fail("docker-registry and skopeo are required (apt-get install docker-registry skopeo; .ci/run does)")
    work = tmp_path_factory.mktemp("registry")
    server = registry.Registry(work).start()
    layout = work / "layout"
    registry.build_multiarch_layout(layout, "1.0")
    server.push_layout(layout, "team/tool", "1.0")
    yield server
    server.stop()


def test_images_are_pinned_to_the_index_digest(cli, env, reg, world, tmp_path):
    host = reg.host
    body = ("on: push\njobs:\n  a:\n    runs-on: x\n"
            f"    container: {host}/team/tool:1.0\n"
            f"    services:\n      db:\n        image: \"{host}/team/tool:1.0\"  # keep\n"
            "    steps:\n"
            f"      - uses: docker://{host}/team/tool:1.0\n"
            "      - uses: acme/checkout@v4.1.0\n"
            f"      - uses: docker://{host}/team/missing:1.0\n")
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", "--images", cwd=tmp_path,
               env={**env, "REGISTRY_USERNAME": registry.USER, "REGISTRY_PASSWORD": registry.PASSWORD})
    assert done.returncode == 1, done.stderr  # the missing image
    digest = reg.raw_manifest_digest("team/tool", "1.0")
    text = wf.read_text()
    assert text.count(f"team/tool:1.0@{digest}") == 3
    assert f'image: "{host}/team/tool:1.0@{digest}"  # keep\n' in text
    assert f"acme/checkout@{world.sha['checkout v4.1.0']} # v4.1.0" in text
    assert "team/missing" in done.stdout and "[unresolved-ref]" in done.stdout
    assert registry.PASSWORD not in done.stdout + done.stderr
    # idempotent
    again = cli("pin", "--images", cwd=tmp_path,
                env={**env, "REGISTRY_USERNAME": registry.USER, "REGISTRY_PASSWORD": registry.PASSWORD})
    assert again.returncode == 1 and wf.read_text() == text


def test_images_without_credentials_are_refused_clearly(cli, env, reg, tmp_path):
    body = f"on: push\njobs:\n  a:\n    runs-on: x\n    container: {reg.host}/team/tool:1.0\n    steps: []\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", "--images", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "REGISTRY_USERNAME" in done.stdout
    assert wf.read_text() == body


class CountingProxy(LoopbackServer):
    """A reverse proxy on 127.0.0.1 in front of the real registry that counts the requests it forwards.

    Images are named through the proxy's address, so every registry request of the CLI passes here; the
    count is taken before forwarding, so it is exact once the CLI has exited.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream
        self.start()

    @property
    def requests(self) -> list[str]:
        return self.log

    def close(self) -> None:
        self.stop()


class _Forward(Handler):
    owner: CountingProxy
    protocol_version = "HTTP/1.1"

    def _forward(self):
        import http.client

        self.record(f"{self.command} {self.path}")
        body = self.read_body() or None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn = http.client.HTTPConnection(self.owner.upstream, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", resp.getheader("Content-Length", str(len(data)))
                             if self.command == "HEAD" else str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            conn.close()

    do_GET = do_HEAD = _forward  # http.server dispatches on the method name


CountingProxy.handler = _Forward


@pytest.fixture
def proxy(reg):
    counting = CountingProxy(reg.host)
    yield counting
    counting.close()


def test_image_digests_are_cached_like_tags(cli, env, reg, proxy, tmp_path):
    """tag -> digest is cached for the TTL: a warm run makes no registry request; --no-cache and an
    expired TTL ask again, and then see a tag that moved."""
    creds = {**env, "REGISTRY_USERNAME": registry.USER, "REGISTRY_PASSWORD": registry.PASSWORD}
    layout = tmp_path / "layout"
    registry.build_multiarch_layout(layout, "2.0")
    reg.push_layout(layout, "team/moving", "2.0")
    first = reg.raw_manifest_digest("team/moving", "2.0")
    body = ("on: push\njobs:\n  a:\n    runs-on: x\n"
            f"    container: {proxy.host}/team/tool:1.0\n"
            "    steps:\n"
            f"      - uses: docker://{proxy.host}/team/moving:2.0\n"
            f"      - uses: docker://{proxy.host}/team/tool:1.0\n")
    wf = write(tmp_path / ".github/workflows/a.yml", body)

    def pin(*flags: str) -> str:
        write(wf, body)
        proxy.requests.clear()
        done = cli("pin", "--images", *flags, cwd=tmp_path, env=creds)
        assert done.returncode == 1, done.stdout + done.stderr  # files changed
        return wf.read_text()

    cold = pin()
    assert cold.count(f"team/tool:1.0@{reg.raw_manifest_digest('team/tool', '1.0')}") == 2
    assert f"team/moving:2.0@{first}" in cold
    assert proxy.requests and all(r.startswith("HEAD /v2/") for r in proxy.requests)
    assert len(proxy.requests) == 4  # per unique image: the challenge and the authenticated HEAD
    assert pin() == cold and proxy.requests == []  # warm: not one request

    # the tag moves (a single-architecture image under the same tag)
    moved_layout = tmp_path / "moved"
    registry.build_multiarch_layout(moved_layout, "2.0", arches=("riscv64",))
    reg.push_layout(moved_layout, "team/moving", "2.0")
    second = reg.raw_manifest_digest("team/moving", "2.0")
    assert second != first
    assert pin() == cold and proxy.requests == []  # within the TTL the cached digest stands
    fresh = pin("--no-cache")
    assert f"team/moving:2.0@{second}" in fresh and len(proxy.requests) == 4
    expired = pin("--cache-ttl", "0")
    assert expired == fresh and len(proxy.requests) == 4
    assert pin() == fresh and proxy.requests == []  # and the refreshed digest is cached again


def test_images_from_config_and_no_images_flag(cli, env, reg, tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "svc"\n\n[tool.ci-tools.pin]\nimages = true\n')
    body = f"on: push\njobs:\n  a:\n    runs-on: x\n    container: {reg.host}/team/tool:1.0\n    steps: []\n"
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    creds = {**env, "REGISTRY_USERNAME": registry.USER, "REGISTRY_PASSWORD": registry.PASSWORD}
    assert cli("pin", "--no-images", cwd=tmp_path, env=creds).returncode == 0
    assert wf.read_text() == body
    done = cli("pin", cwd=tmp_path, env=creds)
    assert done.returncode == 1, done.stdout + done.stderr  # files changed
    assert wf.read_text() == body.replace("tool:1.0", f"tool:1.0@{reg.raw_manifest_digest('team/tool', '1.0')}")
