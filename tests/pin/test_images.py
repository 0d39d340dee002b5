"""`pin --images` against a real registry (Debian's docker-registry, htpasswd auth) on 127.0.0.1."""

from __future__ import annotations

import pytest

from support import registry
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
