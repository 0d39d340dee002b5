"""The known-compromised data file, its range matching, and the advisory-database filter."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources

import pytest

from ci_tools.gha import advisories as kc
from ci_tools.gha.uses import parse_uses
from ci_tools.pin import transitive


def test_every_entry_names_its_advisory_and_source():
    raw = json.loads(resources.files("ci_tools.gha").joinpath(kc.DATA).read_text("utf-8"))
    assert raw["version"] == 1
    repos = set()
    for item in raw["entries"]:
        assert re.fullmatch(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", item["ghsa"]), item
        assert re.fullmatch(r"CVE-\d{4}-\d{4,}", item["cve"]), item
        assert item["source"].startswith("https://github.com/advisories/" + item["ghsa"])
        assert re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", item["repository"])
        assert item.get("vulnerable_version_range") or item.get("tags")
        assert all(re.fullmatch(r"[0-9a-f]{40}", s) for s in item["shas"])
        repos.add(item["repository"])
    assert {"tj-actions/changed-files", "reviewdog/action-setup"} <= repos
    assert [a.cve for a in kc.load() if a.repository == "tj-actions/changed-files"] == ["CVE-2025-30066"]
    assert [a.cve for a in kc.load() if a.repository == "reviewdog/action-setup"] == ["CVE-2025-30154"]


@pytest.mark.parametrize(("range_", "version", "affected"), [
    ("<= 45.0.7", "v45.0.7", True), ("<= 45.0.7", "45.0.8", False), ("<= 45.0.7", "v1", True),
    ("<= 45.0.7", "v46", False), ("< 1.29.2", "v1.29.1", True), ("< 1.29.2", "v1.29.2", False),
    ("= 1", "v1", True), ("= 1", "v1.4.0", True), ("= 1", "v2", False),
    (">= 2.0.0, < 2.3.1", "v2.3.0", True), (">= 2.0.0, < 2.3.1", "v1.9.9", False),
    ("<= 45.0.7", "main", False), ("~> 1.0", "v1.0.0", False), ("", "v1", False),
])
def test_ranges(range_: str, version: str, affected: bool):
    adv = kc.Advisory("GHSA-x", None, "https://example.invalid", "o/r", "s", range_)
    assert adv.affects_version(version) is affected


def test_match_by_sha_even_without_a_version_and_case_insensitively():
    ref = parse_uses("TJ-Actions/Changed-Files@0e58ed8671d6b60d0890c21b07f8835ace038e67")
    assert [(a.ghsa, why) for a, why in kc.match(ref, None)] == [("GHSA-mrrh-fwg8-r2c3", "sha")]
    assert kc.match(parse_uses("tj-actions/changed-files@" + "1" * 40), "v46.0.1") == []
    assert kc.match(parse_uses("actions/checkout@v1"), "v1") == []


def test_api_advisories_count_only_malicious_code():
    items = [
        {"ghsa_id": "GHSA-a", "cve_id": "CVE-1", "html_url": "https://github.com/advisories/GHSA-a", "summary": "m",
         "cwes": [{"cwe_id": "CWE-506"}], "vulnerabilities": [
             {"package": {"ecosystem": "actions", "name": "o/r"}, "vulnerable_version_range": "< 2",
              "first_patched_version": {"identifier": "2.0.0"}},
             {"package": {"ecosystem": "npm", "name": "left-pad"}, "vulnerable_version_range": "< 2"}]},
        {"ghsa_id": "GHSA-b", "cwes": [{"cwe_id": "CWE-94"}],
         "vulnerabilities": [{"package": {"ecosystem": "actions", "name": "o/s"}}]},
        {"ghsa_id": "GHSA-c", "type": "malware", "withdrawn_at": "2025-01-01T00:00:00Z",
         "vulnerabilities": [{"package": {"ecosystem": "actions", "name": "o/t"}}]},
        "not an object",
    ]
    found = kc.advisories_from_api(items)
    assert [(a.ghsa, a.repository, a.first_patched_version, a.origin) for a in found] == [
        ("GHSA-a", "o/r", "2.0.0", "github")]


def test_node_runtime_deprecations_follow_their_dates():
    assert transitive.deprecated_runtime("node20", dt.date(2025, 9, 18)) is None
    assert "September 2025" in transitive.deprecated_runtime("node20", dt.date(2025, 9, 19))
    assert transitive.deprecated_runtime("node16", dt.date(2026, 1, 1))
    assert transitive.deprecated_runtime("node12", dt.date(2026, 1, 1))
    assert transitive.deprecated_runtime("node24", dt.date(2030, 1, 1)) is None
    assert transitive.deprecated_runtime("composite") is None and transitive.deprecated_runtime(None) is None
