"""The tests run the release-please that ships: the one bundled by the release-please-action commit we pin.

googleapis/release-please-action v4.1.4 (d1a8f221d7723166f48a584aebba00ef3f6febec) depends on
``release-please ^16.14.1`` and its package-lock.json resolves it to 16.14.1 (integrity below); its
``dist/index.js`` bundles that. An option of release-please 17 (``force-tag-creation``,
``always-update``, ...) would pass tests run on 17 and be ignored in production. Moving the pin in
action.yml fails this test until the npm lock in tests/npm moves with it.
"""

from __future__ import annotations

import json
import re

from rp_world import ACTION, REPO

from support.npm_release_please import release_please_dir

# release-please-action commit -> the release-please version and npm integrity of its package-lock.json
BUNDLED = {
    "d1a8f221d7723166f48a584aebba00ef3f6febec": (
        "16.14.1",
        "sha512-M02Jf28saDUKstt/88eVBQOFRJOGJzuJsJrpYmicis657q97qHIK+LKu/Xk31SDTw3rNcHui/skHVL/IvAxhJQ==",
    ),
}


def pinned() -> str:
    text = (ACTION / "action.yml").read_text(encoding="utf-8")
    return re.search(r"uses: googleapis/release-please-action@([0-9a-f]{40}) # v", text).group(1)


def test_the_npm_lock_pins_the_release_please_the_action_bundles():
    version, integrity = BUNDLED[pinned()]
    npm = REPO / "tests" / "npm"
    assert json.loads((npm / "package.json").read_text())["dependencies"] == {"release-please": version}
    locked = json.loads((npm / "package-lock.json").read_text())["packages"]["node_modules/release-please"]
    assert (locked["version"], locked["integrity"]) == (version, integrity)


def test_the_installed_release_please_is_that_version():
    version, _ = BUNDLED[pinned()]
    assert json.loads((release_please_dir() / "package.json").read_text())["version"] == version
