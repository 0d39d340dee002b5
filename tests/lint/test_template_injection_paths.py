"""template-injection, path by path: each hostile workflow below is written out with the exact
findings it must give (line, column span, severity and message), and the safe lines beside them must
give none.

The rows follow the ways a workflow carries attacker text to a script (issue 14: tests that can fail):
a matrix built from it (the whole matrix, one key, an ``include:`` entry, never ``exclude:``), a job
output, a step output written from an expression or from a shell variable, a reusable workflow's
string inputs, the env: definition nearest the step (keys differing only in case), an action's
inputs and step outputs, and the script input of ``actions/github-script``. A message names where the
text came from; a path the workflow derived (``env.``, ``steps.``, ``needs.``, ``inputs.``,
``matrix.``) is not called attacker-writable itself, an event path is.
"""

from __future__ import annotations

import pytest

from ci_tools.core.config import Config, load_config
from ci_tools.gha.source import KIND_ACTION, KIND_WORKFLOW, load_text
from ci_tools.lint.checks import Context, github_env, template_injection

RUN = 'and is expanded into a "run:" script, where it can run commands; '
VIA_ENV = 'pass it through "env:" and read it as a shell variable'


def findings(text: str, kind: str = KIND_WORKFLOW, config: Config | None = None, check=template_injection) -> list[str]:
    doc = load_text(text, display="w.yml", kind=kind)
    found = check.check(doc, Context(root=doc.path.parent, config=config or Config()))
    return [f"{f.location.line}:{f.location.col}-{f.location.end_line}:{f.location.end_col} {f.severity.name.lower()} "
            f"{f.message}" for f in found]


MATRIX = """\
on: workflow_call
jobs:
  meta:
    runs-on: ubuntu-latest
    outputs:
      safe: ${{ steps.s.outputs.n }}
      title: ${{ github.event.issue.title }}
    steps:
      - id: s
        run: echo "n=1" >> "$GITHUB_OUTPUT"
  a:
    needs: meta
    runs-on: ubuntu-latest
    strategy:
      matrix: ${{ fromJSON(needs.meta.outputs.title) }}
    steps:
      - run: echo "${{ matrix.name }}"
  b:
    needs: meta
    runs-on: ubuntu-latest
    strategy:
      matrix: ${{ fromJSON(needs.meta.outputs.safe) }}
    steps:
      - run: echo "${{ matrix.name }}"
  c:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        exclude: ${{ fromJSON(github.event.issue.title) }}
        os: [linux]
    steps:
      - run: echo "${{ toJSON(matrix) }}"
  d:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        exclude:
          - os: linux
        name: ${{ fromJSON(github.event.issue.body) }}
    steps:
      - run: echo "${{ matrix.name }}"
  e:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: [linux]
        Include: ${{ fromJSON(github.event.issue.title) }}
    steps:
      - run: echo "${{ matrix.os }}"
  f:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: [linux]
        include:
          - ${{ fromJSON(github.event.comment.body) }}
    steps:
      - run: echo "${{ matrix.os }}"
  g:
    runs-on: ubuntu-latest
    strategy:
      matrix: ${{ fromJSON(github.event.issue.title) }}
    steps:
      - run: echo "${{ github.sha }} ${{ runner.os }}"
"""


def test_a_matrix_carries_what_it_is_built_from_and_exclude_carries_nothing():
    assert findings(MATRIX) == [
        # a: the whole matrix from a job output that holds an issue title
        f'17:20-17:38 error "matrix.name" is a value of the matrix built from "needs.meta.outputs.title" {RUN}{VIA_ENV}',
        # b: the same from a safe output: nothing; c: a matrix filtered by attacker text holds none of it
        # d: a tainted key after exclude: is still read
        f'41:20-41:38 error "matrix.name" is set by the matrix ("name:") from "github.event.issue.body", which an '
        f'attacker can write, {RUN}{VIA_ENV}',
        # e: Include: as any case; f: an include: entry that is one expression
        f'49:20-49:36 error "matrix.os" is set by the matrix ("include:") from "github.event.issue.title", which an '
        f'attacker can write, {RUN}{VIA_ENV}',
        f'58:20-58:36 error "matrix.os" is set by the matrix ("include:") from "github.event.comment.body", which an '
        f'attacker can write, {RUN}{VIA_ENV}',
        # g: a tainted matrix does not make github.sha or runner.os tainted
    ]


OUTPUTS = """\
on: pull_request_target
env:
  TITLE: ${{ github.event.pull_request.title }}
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      BODY: ${{ github.event.pull_request.body }}
    outputs:
      sha: ${{ github.sha }}
      text: ${{ env.BODY }}
    steps:
      - id: changed
        uses: tj-actions/changed-files@v45
      - id: filter
        uses: dorny/paths-filter@v3
      - id: w
        run: |
          echo "title<<EOF" >> "$GITHUB_OUTPUT"
          echo "$BODY" >> "$GITHUB_OUTPUT"
          echo "EOF" >> "$GITHUB_OUTPUT"
      - id: plain
        run: echo "${{ github.event.pull_request.head.ref }}"
      - id: here
        env:
          NOTE: ${{ github.event.pull_request.head.label }}
        run: echo "note=${{ env.NOTE }}" >> "$GITHUB_OUTPUT"
      - run: echo "${{ toJSON(steps.changed) }}"
      - run: echo "${{ join(steps.changed.outputs.*, ' ') }}"
      - run: echo "${{ steps.filter.outputs.files }} ${{ steps.filter.outputs.src_files }}"
      - run: echo "${{ steps.w.outputs.title }}"
      - run: echo "${{ steps.plain.outputs.x }}"
      - run: echo "${{ steps.here.outputs.note }}"
      - run: echo "${{ toJSON(github.event.client_payload) }} ${{ toJSON(github.event.pull_request) }}"
      - run: echo "${{ format('{0} {1}', github.sha, github.event.pull_request.title) }}"
  use:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ toJSON(needs.build) }}"
      - run: echo "${{ join(needs.build.outputs.*, ' ') }}"
      - run: echo "${{ needs.build.outputs.text }}"
      - run: echo "${{ needs.build.outputs.sha }}"
"""


def test_step_and_job_outputs_carry_what_wrote_them():
    assert findings(OUTPUTS) == [
        # the plain step's own line (it writes no output, so steps.plain.outputs.x is safe)
        f'23:20-23:61 error "github.event.pull_request.head.ref" can be written by an attacker {RUN}{VIA_ENV}',
        f'27:25-27:40 error "env.NOTE" is set from "github.event.pull_request.head.label", which an attacker can '
        f'write, {RUN}use "$NOTE" instead',
        # a whole step's outputs, and all of them by a filter
        f'28:20-28:48 error "steps.changed" is an output of "tj-actions/changed-files", which an attacker can '
        f'choose, {RUN}{VIA_ENV}',
        f'29:20-29:61 error "steps.changed.outputs.*" is an output of "tj-actions/changed-files", which an '
        f'attacker can choose, {RUN}{VIA_ENV}',
        # dorny/paths-filter: only <filter>_files names files, not an output called "files"
        f'30:54-30:91 error "steps.filter.outputs.src_files" is an output of "dorny/paths-filter", which an '
        f'attacker can choose, {RUN}{VIA_ENV}',
        # written from a job-level env: variable, named after $GITHUB_OUTPUT on the same lines
        f'31:20-31:48 error "steps.w.outputs.title" is written by step "w" from "$BODY" {RUN}{VIA_ENV}',
        # written from the writing step's own env:
        f'33:20-33:50 error "steps.here.outputs.note" is written by step "here" from "env.NOTE" {RUN}{VIA_ENV}',
        # a payload object: the whole of client_payload is written by the sender; a pull request holds a title
        f'34:20-34:62 error "github.event.client_payload" can be written by an attacker {RUN}{VIA_ENV}',
        f'34:63-34:103 error "github.event.pull_request" holds "github.event.pull_request.title", which an '
        f'attacker can write, {RUN}{VIA_ENV}',
        # the second argument of format(), after a safe first one
        f'35:20-35:89 error "github.event.pull_request.title" can be written by an attacker {RUN}{VIA_ENV}',
        # a job's outputs as a whole, all of them, and the second one by name (the first is a SHA)
        f'40:20-40:46 error "needs.build" is set by job "build" from "env.BODY" {RUN}{VIA_ENV}',
        f'41:20-41:59 error "needs.build.outputs.*" is set by job "build" from "env.BODY" {RUN}{VIA_ENV}',
        f'42:20-42:51 error "needs.build.outputs.text" is set by job "build" from "env.BODY" {RUN}{VIA_ENV}',
    ]


REUSABLE = """\
on:
  workflow_call:
    inputs:
      name:
        type: string
      dry:
        type: boolean
env:
  Title: safe
  TITLE: ${{ github.event.issue.title }}
jobs:
  a:
    runs-on: ubuntu-latest
    strategy:
      matrix: ${{ fromJSON(inputs.name) }}
    steps:
      - run: echo "${{ toJSON(inputs) }}"
      - run: echo "${{ join(inputs.*, ' ') }}"
      - run: echo "${{ env.TITLE }}"
      - run: echo "${{ matrix.x }}"
      - uses: actions/github-script@v7@2
        with:
          script: console.log("${{ github.event.issue.body }}")
      - uses: actions/github-script@v7
        env:
          NOTE: ${{ github.event.comment.body }}
        with:
          script: console.log("${{ env.NOTE }}")
      - uses: actions/github-script
        with:
          script: console.log("${{ github.event.issue.body }}")
      - run: echo "${{ github.event.issue.title }}"
"""


def test_inputs_env_case_and_github_script():
    assert findings(REUSABLE) == [
        f'17:20-17:41 error "inputs" comes from the caller of the reusable workflow {RUN}{VIA_ENV}',
        f'18:20-18:46 error "inputs.*" comes from the caller of the reusable workflow {RUN}{VIA_ENV}',
        # env.TITLE reads TITLE, not the safe Title beside it
        f'19:20-19:36 error "env.TITLE" is set from "github.event.issue.title", which an attacker can write, '
        f'{RUN}use "$TITLE" instead',
        f'20:20-20:35 error "matrix.x" is a value of the matrix built from "inputs.name" {RUN}{VIA_ENV}',
        # "@v7@2" and no ref at all are no action GitHub runs: not a script; the steps after are still read
        # the step's own env: reaches the script input
        '28:32-28:47 error "env.NOTE" is set from "github.event.comment.body", which an attacker can write, and '
        'is expanded into the script of "actions/github-script", where it can run code; use "process.env.NOTE" '
        'instead',
        f'32:20-32:51 error "github.event.issue.title" can be written by an attacker {RUN}{VIA_ENV}',
    ]


def test_inputs_that_are_not_strings_carry_no_text():
    assert findings("""\
on:
  workflow_call:
    inputs:
      dry:
        type: boolean
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ toJSON(inputs) }} ${{ inputs.dry }}"
""") == []


def test_an_actions_inputs_reach_its_step_outputs_and_it_has_no_top_level_env():
    assert findings("""\
name: a
description: d
inputs:
  text:
    description: t
env:
  X: ${{ github.event.issue.title }}
runs:
  using: composite
  steps:
    - id: w
      shell: bash
      run: echo "t=${{ inputs.text }}" >> "$GITHUB_OUTPUT"
    - shell: bash
      run: echo "${{ steps.w.outputs.t }} ${{ env.X }}"
""", kind=KIND_ACTION) == [
        f'13:20-13:38 error "inputs.text" is an input of the action, which its caller may fill with attacker text, '
        f'{RUN}{VIA_ENV}',
        f'15:18-15:42 error "steps.w.outputs.t" is written by step "w" from "inputs.text" {RUN}{VIA_ENV}',
    ]


def test_github_env_names_a_derived_source_without_calling_it_attacker_written():
    tail = ('and is written to "$GITHUB_ENV", where a newline in it sets any variable (or PATH) for every later '
            'step; keep it out of "$GITHUB_ENV" (pass it as a step output, or validate it first)')
    assert findings("""\
on:
  workflow_call:
    inputs:
      name:
        type: string
jobs:
  a:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        k: ["${{ inputs.name }}"]
    env:
      T: ${{ github.event.issue.title }}
    steps:
      - id: s
        uses: tj-actions/changed-files@v45
      - run: |
          A="${{ env.T }}"
          echo "A=$A" >> "$GITHUB_ENV"
          B="${{ steps.s.outputs.all_changed_files }}"
          echo "B=$B" >> "$GITHUB_ENV"
          C="${{ inputs.name }}"
          echo "C=$C" >> "$GITHUB_ENV"
          D="${{ matrix.k }}"
          echo "D=$D" >> "$GITHUB_ENV"
          E="${{ github.event.issue.body }}"
          echo "E=$E" >> "$GITHUB_ENV"
""", check=github_env) == [
        f'19:28-19:38 error "$A" is set in the script from "env.T" {tail}',
        f'21:28-21:38 error "$B" is set in the script from "steps.s.outputs.all_changed_files" {tail}',
        f'23:28-23:38 error "$C" is set in the script from "inputs.name" {tail}',
        f'25:28-25:38 error "$D" is set in the script from "matrix.k" {tail}',
        f'27:28-27:38 error "$E" is set in the script from "github.event.issue.body", which an attacker can write, '
        f'{tail}',
    ]


def _chain(hops: int, shell: bool) -> str:
    """issue text -> ``hops`` env: variables -> a step output -> a job output -> a matrix value -> run:."""
    envs = "".join(f"      A{i}: ${{{{ env.A{i + 1} }}}}\n" for i in range(1, hops))
    envs += f"      A{hops}: ${{{{ github.event.issue.title }}}}\n"
    write = 'echo "o=$A1" >> "$GITHUB_OUTPUT"' if shell else 'echo "o=${{ env.A1 }}" >> "$GITHUB_OUTPUT"'
    return (f"on: issues\njobs:\n  meta:\n    runs-on: ubuntu-latest\n    outputs:\n"
            f"      o: ${{{{ steps.s.outputs.o }}}}\n    env:\n{envs}    steps:\n      - id: s\n        run: {write}\n"
            f"  a:\n    needs: meta\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
            f"        k: [\"${{{{ needs.meta.outputs.o }}}}\"]\n    steps:\n      - run: echo \"${{{{ matrix.k }}}}\"\n")


@pytest.mark.parametrize("shell", [False, True], ids=["expression", "shell-variable"])
def test_the_search_follows_eight_hops_and_stops_after(shell: bool):
    """matrix, job output, step output, then env: variables: the issue title is 8 hops from the run:
    line with 5 variables, found; with 6 it is 9 hops, past the bound that keeps the work per expression
    small on a workflow built to be deep, and the matrix line is not reported."""
    line = f'"matrix.k" is set by the matrix ("k:") from "needs.meta.outputs.o" {RUN}{VIA_ENV}'
    assert [f for f in findings(_chain(5, shell)) if "matrix.k" in f] == [f"23:20-23:35 error {line}"]
    assert [f for f in findings(_chain(6, shell)) if "matrix.k" in f] == []


def test_definitions_that_read_each_other_end_without_a_finding():
    cycle = ("on: issues\nenv:\n  A: ${{ env.B }}\n  B: ${{ env.A }}\njobs:\n  j:\n    runs-on: ubuntu-latest\n"
             "    steps:\n      - id: s\n        run: echo \"o=${{ steps.s.outputs.o }}\" >> \"$GITHUB_OUTPUT\"\n"
             "      - run: echo \"${{ env.A }} ${{ steps.s.outputs.o }}\"\n")
    assert findings(cycle) == []


def test_a_configured_sink_gives_its_own_advice_and_the_table_is_made_once(tmp_path):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ci-tools.toml").write_text(
        '[[checks.template-injection.script-sinks]]\naction = "org/run-lua"\ninput = "chunk"\nlanguage = "Lua"\n'
        'fix = "pass it as an argument of the chunk"\n')
    config = load_config(tmp_path, known_ids=None)
    workflow = ("on: issues\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - uses: org/run-lua@0123456789abcdef0123456789abcdef01234567\n"
                "        with:\n          chunk: print(\"${{ github.event.issue.title }}\")\n")
    expected = ['8:25-8:56 error "github.event.issue.title" can be written by an attacker and is expanded into the '
                '"chunk" input of "org/run-lua", which runs it as Lua; pass it as an argument of the chunk']
    assert findings(workflow, config=config) == expected
    assert findings(workflow, config=config) == expected  # the second file: the table made for this configuration
