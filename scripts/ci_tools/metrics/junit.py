"""JUnit XML from artifact archives, read as hostile input.

An artifact is uploaded by the run that produced it, and on a pull request from a fork that run
is the fork author's code: the archive and the XML in it may be built to hurt the reader. So:

- the archive is never extracted to disk: members are read in memory, by name, in bounded chunks;
  a member that expands past :data:`MAX_MEMBER_BYTES`, an archive past :data:`MAX_TOTAL_BYTES` in all,
  a compression ratio past :data:`MAX_RATIO`, or more than :data:`MAX_MEMBERS` members is a zip bomb
  (``zip-bomb``), whatever sizes the archive's directory claims;
- the XML is parsed by expat as a stream, with any ``DOCTYPE`` refused before its content is read
  (``xml-doctype``): a JUnit report needs no DTD, and without one there are no entities to expand
  (billion laughs) and no external entities to fetch (XXE); element depth and test case counts are
  bounded;
- every problem is an :class:`ArtifactSkip` with a reason from :data:`ci_tools.metrics.model.SKIP_REASONS`
  and the place (``junit.xml:3:14``), never an exception of the parser.

Formats read: pytest's ``--junitxml`` (``testsuites/testsuite/testcase``), a bare ``testsuite`` root,
and Maven Surefire's ``flakyFailure``/``flakyError``/``rerunFailure``/``rerunError`` inside a test case
(a failure the runner retried within the run).
"""

from __future__ import annotations

import io
import zipfile
from typing import NoReturn
from xml.parsers import expat

from ci_tools.metrics.model import TestResult, _redact

MAX_MEMBERS = 200
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 128 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members above 1 MiB
MAX_CASES = 200_000
MAX_DEPTH = 64


class ArtifactSkip(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def read_archive(data: bytes) -> list[TestResult]:
    """Every test case of every ``.xml`` member of a zip archive (``ArtifactSkip`` when none can be read)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ArtifactSkip("not-a-zip", f"not a readable zip archive ({exc})") from None
    if len(members) > MAX_MEMBERS:
        raise ArtifactSkip("zip-bomb", f"{len(members)} members, more than {MAX_MEMBERS}")
    xml_members = [m for m in members if not m.is_dir() and m.filename.lower().endswith(".xml")]
    if not xml_members:
        raise ArtifactSkip("no-junit", "no .xml file in the archive")
    results: list[TestResult] = []
    total = 0
    for member in xml_members:
        name = _printable(member.filename)
        if member.flag_bits & 0x1:
            raise ArtifactSkip("encrypted", f"{name} is encrypted")
        if member.file_size > MAX_MEMBER_BYTES:
            raise ArtifactSkip("zip-bomb", f"{name} expands to {member.file_size} bytes, more than {MAX_MEMBER_BYTES}")
        if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise ArtifactSkip("zip-bomb", f"{name} expands {member.file_size // max(member.compress_size, 1)} "
                                           f"times, more than {MAX_RATIO}")
        parser = _JUnitParser(name)
        try:
            with archive.open(member) as stream:
                while True:
                    chunk = stream.read(65536)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > MAX_TOTAL_BYTES or parser.size + len(chunk) > MAX_MEMBER_BYTES:
                        raise ArtifactSkip("zip-bomb", f"{name} expands past the limit of "
                                                       f"{min(MAX_TOTAL_BYTES, MAX_MEMBER_BYTES)} bytes")
                    parser.feed(chunk)
            parser.close()
        except ArtifactSkip:
            raise
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError, ValueError) as exc:
            raise ArtifactSkip("not-a-zip", f"{name} cannot be read from the archive ({exc})") from None
        results.extend(parser.results)
    return results


def parse_xml(data: bytes, name: str = "junit.xml") -> list[TestResult]:
    """The test cases of one JUnit XML document."""
    parser = _JUnitParser(_printable(name))
    parser.feed(data)
    parser.close()
    return parser.results


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:200]


class _Refused(Exception):
    pass


class _JUnitParser:
    """expat, as a stream: test cases collected as they close; DOCTYPE and entity declarations refused."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.size = 0
        self.results: list[TestResult] = []
        self._stack: list[str] = []
        self._case: dict | None = None
        self._suites: list[str] = []
        self._saw_junit = False
        p = expat.ParserCreate()
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartDoctypeDeclHandler = self._refuse
        p.EntityDeclHandler = self._refuse
        p.UnparsedEntityDeclHandler = self._refuse
        p.ExternalEntityRefHandler = self._refuse
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        self._parser = p

    def _refuse(self, *args: object) -> NoReturn:
        raise _Refused()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._parse(chunk, False)

    def close(self) -> None:
        self._parse(b"", True)
        if not self._saw_junit:
            raise ArtifactSkip("not-junit", f"{self.name}: no testsuite or testcase element")

    def _parse(self, chunk: bytes, final: bool) -> None:
        p = self._parser
        try:
            p.Parse(chunk, final)
        except _Refused:
            raise ArtifactSkip("xml-doctype", f"{self.name}:{p.CurrentLineNumber}:{p.CurrentColumnNumber + 1}: "
                                              "DOCTYPE and entity declarations are refused") from None
        except expat.ExpatError as exc:
            raise ArtifactSkip("bad-xml", f"{self.name}:{exc.lineno}:{exc.offset + 1}: "
                                          f"{expat.ErrorString(exc.code)}") from None
        except RecursionError:
            raise ArtifactSkip("bad-xml", f"{self.name}: nested too deeply") from None

    def _start(self, tag: str, attrs: dict) -> None:
        self._stack.append(tag)
        if len(self._stack) > MAX_DEPTH:
            raise ArtifactSkip("bad-xml", f"{self.name}:{self._parser.CurrentLineNumber}: "
                                          f"elements nested deeper than {MAX_DEPTH}")
        if tag in ("testsuite", "testsuites"):
            self._saw_junit = True
            if tag == "testsuite":
                self._suites.append(str(attrs.get("name", "")))
        elif tag == "testcase" and self._case is None:
            self._saw_junit = True
            self._case = {"classname": attrs.get("classname") or (self._suites[-1] if self._suites else ""),
                          "name": attrs.get("name", ""), "time": attrs.get("time", "0"), "outcome": "passed",
                          "retried": 0}
        elif self._case is not None and len(self._stack) >= 2 and self._stack[-2] == "testcase":
            if tag in ("failure", "error"):
                self._case["outcome"] = "failed"
            elif tag == "skipped" and self._case["outcome"] == "passed":
                self._case["outcome"] = "skipped"
            elif tag in ("flakyFailure", "flakyError", "rerunFailure", "rerunError"):
                self._case["retried"] += 1

    def _end(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()
        if tag == "testsuite" and self._suites:
            self._suites.pop()
        if tag == "testcase" and self._case is not None and "testcase" not in self._stack:
            case, self._case = self._case, None
            if len(self.results) >= MAX_CASES:
                raise ArtifactSkip("zip-bomb", f"{self.name}: more than {MAX_CASES} test cases")
            try:
                seconds = float(case["time"].replace(",", ""))
            except ValueError:
                seconds = 0.0
            if not seconds >= 0 or seconds == float("inf"):  # NaN, negative, infinite
                seconds = 0.0
            classname, name = str(case["classname"]), str(case["name"])
            test_id = f"{classname}::{name}" if classname and name else (name or classname or "(unnamed test)")
            self.results.append(TestResult(_redact(test_id), case["outcome"], seconds, case["retried"]))
