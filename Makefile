# Stretch Coach. `make demo` hears a coached session; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make setup` and `make run` need only what the coach runs on: no test tools (.[dev]).
RUNTIME_STAMP := $(VENV)/.installed-runtime
# On a Raspberry Pi the venv also sees Debian's python3-lgpio (a Pi 5's GPIO), as the
# service's does (systemd/install.sh).
PI_MODEL   = $(shell grep -aqs "Raspberry Pi" /proc/device-tree/model && echo yes)
VENV_ARGS  = $(if $(PI_MODEL),--system-site-packages)

.PHONY: demo test check lint run setup install uninstall bench clean

$(STAMP): pyproject.toml constraints.txt scripts/system-deps.sh
	bash scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) $(VENV_ARGS)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(RUNTIME_STAMP): pyproject.toml constraints.txt scripts/system-deps.sh
	bash scripts/system-deps.sh --runtime
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) $(VENV_ARGS)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $(RUNTIME_STAMP)

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

run: $(RUNTIME_STAMP)
	$(BIN)/stretch-coach run

setup: $(RUNTIME_STAMP)
	$(BIN)/stretch-coach setup

bench: $(STAMP)
	$(BIN)/stretch-coach bench

# The service gets its own venv (/opt/stretch-coach/venv): nothing here is built, so
# `sudo make install` leaves no root-owned files in the clone.
install:
	bash systemd/install.sh install

uninstall:
	bash systemd/install.sh uninstall

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache demo-session.wav
