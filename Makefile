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
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/steward dev

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

fuzz: $(STAMP)
	$(BIN)/pytest -q -m slow -k fuzz

chaos: $(STAMP)
	$(BIN)/pytest -q -m slow -k chaos

clean:
	rm -rf $(VENV) var
