# All targets create the virtualenv and install what they need on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SANDBOX_DIR := .sandbox

.PHONY: install demo demo-tfc test lint format bench docs clean

# The editable install comes from hatchling (pinned in pyproject.toml): it writes a plain .pth path
# entry, so start-up is as fast as a regular install without setuptools' transitional 'compat' mode.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# checkov lives in a venv of its own: it pins old versions of boto3 and friends.
TOOLS   := .venv-tools
CHECKOV := $(TOOLS)/bin/checkov

$(CHECKOV):
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet 'checkov>=3.2,<4'

install: $(STAMP) $(CHECKOV)

test: $(STAMP) $(CHECKOV)
	CHECKOV=$(CHECKOV) $(BIN)/pytest -n 2 -q

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

# HCP Terraform: a plan role and an apply role for one workspace, the workspace's variables, then
# tokens shaped like HCP Terraform's (minted by the sandbox's issuer) assuming them (docs/hcp-terraform.md).
demo-tfc: $(STAMP)
	@$(BIN)/python -m bootstrap.sandbox.demo_tfc --dir $(SANDBOX_DIR)-tfc

clean:
	rm -rf $(VENV) $(TOOLS) $(SANDBOX_DIR) $(SANDBOX_DIR)-tfc site .pytest_cache .mypy_cache .ruff_cache

# Medians of fresh processes against the sandbox (100 ms added per call), beside a bare boto3
# floor, and both fleet engines at 50 and 200 accounts; prints a table, writes bench-results.json,
# exits non-zero if a target is missed.
bench: $(STAMP)
	$(BIN)/python -m bootstrap.sandbox.bench

# The documentation site (mkdocs.yml, docs/) into site/; --strict fails on any warning, a broken
# link or anchor included. The config reference is generated from the schema by docs/hooks/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site
