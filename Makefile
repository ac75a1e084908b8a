# Two commands: `make dev` runs the whole system, `make test` passes the tests. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint fuzz chaos bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,test]'
	touch $(STAMP)

# The console's browser tests drive Debian's Chromium through Playwright, which never downloads a browser.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei

dev: $(STAMP)
	$(BIN)/steward dev

# Two workers, a test file each at a time: files share servers through module fixtures, so they stay whole.
test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

fuzz: $(STAMP)
	$(BIN)/pytest -q -s -m slow -k fuzz

chaos: $(STAMP)
	$(BIN)/pytest -q -s -m slow -k chaos

# Benchmarks print figures and write bench/results/; they never fail on time and are not part of `make test`.
bench: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m bench
	PYTHONPATH=. $(BIN)/python -m bench.board

bench-quick: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) var
