# Stretch Coach. `make demo` hears a coached session; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint run setup install uninstall bench clean

$(STAMP): pyproject.toml constraints.txt scripts/system-deps.sh
	bash scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/stretch-coach demo --fast

test: $(STAMP) lint
	bash scripts/system-deps.sh --test
	$(BIN)/python -m pytest -q

# The in-process tier to run often (under a minute): no real engines, devices or subprocesses.
check: $(STAMP) lint
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check skill tests
	$(BIN)/ruff format --check skill tests
	$(BIN)/mypy

run: $(STAMP)
	$(BIN)/stretch-coach run

setup: $(STAMP)
	$(BIN)/stretch-coach setup

bench: $(STAMP)
	$(BIN)/stretch-coach bench

install: $(STAMP)
	bash systemd/install.sh install

uninstall:
	bash systemd/install.sh uninstall

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache demo-session.wav
