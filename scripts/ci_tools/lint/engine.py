"""Loading documents and running the checks over them: shared by check, verify and report."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ci_tools.core.config import Config
from ci_tools.core.findings import Finding
from ci_tools.gha.discovery import DiscoveryError, default_files, excluded, expand, nothing_to_check
from ci_tools.gha.source import Document, display_path, load
from ci_tools.lint import checks as registry


def collect_files(paths: list[Path], root: Path, config: Config, exclude: list[str], *,
                  require: bool = False) -> list[Path]:
    """The files a command reads; with ``require``, finding none is a DiscoveryError (a gate that read
    nothing must not pass in silence)."""
    files = expand(paths, root) if paths else default_files(root)
    patterns = list(config.exclude) + list(exclude)
    kept = [f for f in files if not excluded(f, root, patterns)]
    if require and not kept:
        raise DiscoveryError(nothing_to_check(paths, root, bool(files)))
    return kept


def load_documents(files: list[Path], root: Path) -> list[Document]:
    return list(iter_documents(files, root))


def iter_documents(files: list[Path], root: Path) -> Iterator[Document]:
    cwd = Path.cwd()
    for f in files:
        yield load(f, root=root, display=display_path(f.absolute(), cwd))


def run_checks(docs: Iterable[Document], ctx: registry.Context, only: set[str] | None = None) -> list[Finding]:
    """Per-document checks file by file, then the checks across files."""
    findings, seen = per_document(docs, ctx, only)
    findings.extend(across_files(seen, ctx, only))
    return findings


def _checks(ctx: registry.Context, only: set[str] | None) -> tuple[list[registry.Check], list[registry.Check]]:
    per_doc: list[registry.Check] = []
    across: list[registry.Check] = []
    for check in registry.checks():
        if (only is not None and check.id not in only) or not ctx.config.check(check.id).enabled:
            continue
        (across if check.across_files else per_doc).append(check)
    return per_doc, across


def per_document(docs: Iterable[Document], ctx: registry.Context,
                 only: set[str] | None = None) -> tuple[list[Finding], list[Document]]:
    """The per-document checks; returns their findings (syntax ones included) and the documents seen.

    After its per-document checks a file's plain-value copy is dropped, and so is its node tree
    unless a cross-file check wants it: such a module may export ``keep(doc) -> bool`` (without it,
    every document of its ``APPLIES_TO`` kinds is kept). This keeps memory flat on large inputs.
    """
    per_doc, across = _checks(ctx, only)
    findings: list[Finding] = []
    seen: list[Document] = []
    for doc in docs:  # may be a generator: each file is loaded, checked and slimmed in turn
        seen.append(doc)
        findings.extend(doc.findings)
        if doc.root is None and doc.json_data is None:
            continue
        for check in per_doc:
            if check.check is not None and check.applies(doc):
                findings.extend(check.check(doc, ctx))
        doc.release_plain()
        if not any(check.wants(doc) for check in across):
            doc.release_tree()
    return findings, seen


def across_files(seen: list[Document], ctx: registry.Context, only: set[str] | None = None) -> list[Finding]:
    """The checks across files, over the documents :func:`per_document` kept parsed."""
    _, across = _checks(ctx, only)
    parsed = [d for d in seen if d.root is not None or d.json_data is not None]
    findings: list[Finding] = []
    for check in across:
        if check.check_all is not None:
            findings.extend(check.check_all([d for d in parsed if check.applies(d)], ctx))
    return findings


def lint(files: list[Path], root: Path, config: Config, only: set[str] | None = None, *,
         actionlint: bool = True, shellcheck: bool = True) -> tuple[list[Finding], list[Document]]:
    """``check``'s whole pass over ``files``: the checks, and actionlint (unless ``actionlint`` is false
    or ``only`` leaves it out) running beside them; returns the findings, not yet finalized, and the
    documents read. Large inputs are split with a forked half (:mod:`ci_tools.lint.parallel`).
    An actionlint that cannot run raises :class:`~ci_tools.lint.actionlint.ActionlintError`."""
    from functools import partial

    from ci_tools.gha.source import classify
    from ci_tools.lint import actionlint as linter
    from ci_tools.lint import parallel

    docs: list[Document] = []
    ctx = registry.Context(root=root, config=config, documents=docs)
    ours, half = files, None
    linting = actionlint and (only is None or "actionlint" in only)
    if parallel.eligible(files, linter=linting):  # fork before any thread starts
        ours, theirs = parallel.split(files)
        half = parallel.Half(theirs, root, ctx, only)

    lint_run = None
    if linting:
        lint_run = linter.start([(str(f.absolute()), partial(classify, f)) for f in files], root,
                                shellcheck=shellcheck)

    def stream() -> Iterator[Document]:
        for doc in iter_documents(ours, root):
            docs.append(doc)
            yield doc

    if half is None:
        findings = run_checks(stream(), ctx, only)
    else:
        findings, mine = per_document(stream(), ctx, only)
        their_findings, their_docs = half.join()
        findings.extend(their_findings)
        docs[:] = parallel.merge(mine, their_docs)
        findings.extend(across_files(docs, ctx, only))
    if lint_run is not None:
        raw = lint_run.result()
        own = list(findings)  # not `ours`: stream() reads that name (the files this process reads)
        findings.extend(linter.deduplicate(linter.to_findings(raw, root, docs), own))
    return findings, docs
