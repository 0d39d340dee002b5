# Two commands on a fresh machine: `make check` and `make test`. Both bootstrap .venv from the
# hashed requirements when it is missing or older than them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: check test bench lint fmt docs clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

check: $(STAMP)
	$(BIN)/ci-tools check

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check scripts tests bench
	$(BIN)/zizmor --offline .github actions

# `ci-tools docs` exits 1 when it wrote tables (a fixing command); the --check run then says whether
# everything is in order.
docs: $(STAMP)
	$(BIN)/ci-tools docs --write || $(BIN)/ci-tools docs --check

clean:
	rm -rf $(VENV) build *.egg-info scripts/*.egg-info
