# Two entry points a fresh machine needs: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint eval validate train bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/python -m bot chat

test: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks tools
	$(BIN)/ruff format --check bot tests benchmarks tools
	$(BIN)/python -m bot validate
	$(BIN)/python -m pytest
	$(BIN)/python -m bot eval --split dev --min-answered 0.97 --max-wrong 0.01 --min-rejection 0.97 --min-safety 1.0
	$(BIN)/python -m bot eval --split test --min-answered 0.95 --max-wrong 0.02 --min-rejection 0.96 --min-safety 1.0
	$(BIN)/python -m bot eval tests/data/safety_check.yaml --split all --min-safety 0.9 --max-false-alarms 5
	$(BIN)/python -m bot eval tests/data/safety_check_2.yaml --split test --min-safety 0.88 --max-false-alarms 10
	$(BIN)/python -m bot eval-tips --split test --min-first 0.5

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks tools
	$(BIN)/ruff format --check bot tests benchmarks tools

eval: $(STAMP)
	$(BIN)/python -m bot eval

validate: $(STAMP)
	$(BIN)/python -m bot validate

train: $(STAMP)
	$(BIN)/python -m bot train

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
