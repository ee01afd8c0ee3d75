# All targets create the virtualenv and install what they need on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SANDBOX_DIR := .sandbox

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check bootstrap tests
	$(BIN)/ruff format --check bootstrap tests
	$(BIN)/mypy --strict bootstrap

format: $(STAMP)
	$(BIN)/ruff format bootstrap tests
	$(BIN)/ruff check --fix bootstrap tests

# Starts the local two-account sandbox (3 s IAM propagation delay, like real IAM), runs a real
# onboarding with an ExternalId and a managed policy, verifies it, and stops the sandbox.
demo: $(STAMP)
	@$(BIN)/python -m bootstrap.sandbox.demo --dir $(SANDBOX_DIR)

clean:
	rm -rf $(VENV) $(SANDBOX_DIR) .pytest_cache .mypy_cache .ruff_cache
