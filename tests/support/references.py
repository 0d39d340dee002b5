"""The workflow of spellings of `uses:` that dodged every check (issue 12, items 5 and 6), line by line:
shared by tests/gha/test_references.py (the parser and ``check``) and tests/pin/test_references.py
(``verify`` and ``pin``), so both read the same lines."""

from __future__ import annotations

import json

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1"

CHECK_BODY = HEAD + (
    "      - uses: tj-actions/changed-files/@v45\n"                # 6 dodged every check
    f"      - uses: actions/checkout/@{SHA} # v7.0.1\n"            # 7 dodged persist-credentials
    f"      - uses: actions/checkout/.@{SHA} # v7.0.1\n"           # 8
    "      - uses: actions/checkout@\n"                            # 9 malformed
    "      - uses: actions/checkout@v4 extra\n"                    # 10 malformed
    "      - uses: docker://\n"                                    # 11 malformed
    f"      - uses: ' actions/checkout@{SHA}' # v7.0.1\n"          # 12 non-canonical (whitespace)
)


def found(stdout: str) -> set[tuple[int, str]]:
    return {(f["line"], f["check"]) for f in json.loads(stdout)["findings"]}
