"""Every file of ../shared/corpus (745 real workflows, actions, templates and properties files from
18 public repositories) is processed with findings only: no tool error, no traceback."""

from __future__ import annotations

import json

import pytest

from support.paths import CORPUS

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the repository")


def test_whole_corpus_yields_findings_and_no_error(cli):
    out = cli("check", "--format", "json", ".", cwd=CORPUS, timeout=300)
    assert out.returncode == 1, out.stderr
    assert out.stderr == ""
    findings = json.loads(out.stdout)["findings"]
    assert len(findings) > 100
    for f in findings:
        assert (CORPUS / f["path"]).exists(), f
        assert f["line"] >= 1 and f["col"] >= 1 and f["message"]
    # the corpus' real problems are found, at real positions
    checks = {f["check"] for f in findings}
    assert {"schema", "syntax", "actionlint"} <= checks


def test_each_corpus_file_alone_loads_without_error():
    from ci_tools.gha import source

    files = [p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml", ".json") and p.is_file()]
    assert len(files) >= 740
    for path in files:
        doc = source.load(path, root=CORPUS)
        assert doc.text, path
        for finding in doc.findings:
            assert finding.check == "syntax" and finding.location.line >= 1
        if doc.root is not None:
            source.to_plain(doc.root)
            list(source.iter_uses(doc))
            list(source.iter_images(doc))
