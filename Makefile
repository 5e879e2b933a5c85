# One word per task; `make` alone lists them. The README documents these.
#   VENV   the virtualenv the tools run from (CI may pass its own)
#   STACK  the Pulumi stack for preview/up/destroy
#   PYTHON the interpreter that creates the venv
#   YES    1: up, repair and destroy run without asking (as `pulumi up --yes`)
VENV ?= venv
STACK ?= dev
PYTHON ?= python3
YES ?=

# --yes for pulumi and the repair command when YES is 1 (or yes/true).
ASSUME_YES := $(if $(filter 1 yes true,$(YES)),--yes)

BIN := $(VENV)/bin
WORKFLOWS := $(wildcard .github/workflows/*.yml)
SCRIPTS := .ci/run $(wildcard .github/scripts/*) scripts/build-pulumi.sh scripts/build-test-images.sh \
	scripts/dockerd.sh scripts/hive-env.sh scripts/hive-run.sh scripts/venv.sh scripts/up.sh scripts/local-images.sh scripts/test-all.sh \
	scripts/build-lib.sh scripts/build-kubernetes.sh scripts/build-pulumi-kubernetes.sh scripts/cluster.sh \
	tests/docker/images/postgres/docker-entrypoint.sh hive_infra/image/make-project.sh

.DEFAULT_GOAL := help
.PHONY: help venv engine kubernetes images local-images test unit pytest lint fmt docs bench preview up repair destroy backup

# Every target that runs pulumi or a command reading the stack runs it through this: the
# Pulumi CLI `make up` found (HIVE_PULUMI; else pulumi 3.x on PATH; else the cached build)
# and the stack's generated passphrase file unless you set your own (scripts/hive-env.sh).
RUN = STACK=$(STACK) bash scripts/hive-run.sh

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  (STACK=$(STACK) VENV=$(VENV); override with e.g. make up STACK=prod)"

venv: ## Create the venv (VENV) with the program, test and lint dependencies (again only when a requirement file changed)
	@bash scripts/venv.sh $(VENV) $(PYTHON)

engine: ## Build the Pulumi CLI and plugins (and pulumi-kubernetes) from Go modules into ~/.cache/hive-infra (engine tier)
	bash scripts/build-pulumi.sh
	bash scripts/build-pulumi-kubernetes.sh

kubernetes: ## Build upstream Kubernetes and the pause image from Go modules into ~/.cache/hive-infra/kubernetes (Kubernetes tier)
	bash scripts/build-kubernetes.sh

images: ## Build the Docker tier's images here (debootstrap, Debian packages, host wheels; never pulled)
	bash scripts/build-test-images.sh

local-images: ## Build the default images' stand-ins here (PostgreSQL 17 + pgvector, Debian's Python 3.11) and set them in STACK's config
	bash scripts/local-images.sh $(STACK)

test: ## From a fresh clone: install, build and start what every tier needs (as .ci/run does), then run them all, each required
	@VENV=$(VENV) PYTHON=$(PYTHON) bash scripts/test-all.sh

unit: ## The quick tier: pure tests with nothing to install, build or start (seconds)
	$(BIN)/python -m pytest -q -m "not integration and not app and not engine and not docker and not slow and not kubernetes"

# pytest exits 5 when it collected no test: that is a failure, not a pass.
pytest: ## The whole suite on what this machine has (a tier whose needs are missing is skipped, unless its HIVE_REQUIRE_* is 1)
	@status=0; $(BIN)/python -m pytest -q || status=$$?; \
	if [ $$status -eq 5 ]; then \
		echo "error: pytest collected no tests (exit 5); a test run that runs nothing is a failure" >&2; \
	fi; \
	exit $$status

lint: ## ruff, ruff format --check, mypy, the import rule (lint-imports), shellcheck, workflow schema and zizmor
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/shellcheck $(SCRIPTS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/zizmor --offline --config zizmor.yml .github/workflows

fmt: ## Format the code and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: ## Time preview, up, no-op up and destroy under the real engine: external, container, Kubernetes mode (needs make engine)
	$(BIN)/python bench/engine.py

docs: ## Render Pulumi.yaml's config block and the README's config and command tables from their declarations
	$(BIN)/python -m hive_infra.config.docs write
	$(BIN)/python -m hive_infra.commands.catalog write

preview: ## Check the machine (doctor), then pulumi preview on the stack STACK
	$(RUN) $(BIN)/python -m hive_infra doctor --stack $(STACK)
	$(RUN) pulumi preview --stack $(STACK)

up: ## From a fresh clone: venv, Pulumi CLI, passphrase, Docker engine, stack, doctor, pulumi up, status (YES=1: no question)
	@STACK=$(STACK) VENV=$(VENV) PYTHON=$(PYTHON) YES=$(YES) bash scripts/up.sh

# Starts what was stopped (never replaced), frees objects an older version left stuck,
# refreshes only the containers and images, then up. docs/operations.md: Troubleshooting.
repair: ## After a container or image was stopped or removed by hand: start, refresh, then pulumi up (YES=1: no question)
	$(RUN) $(BIN)/python -m hive_infra repair --stack $(STACK) $(ASSUME_YES)

destroy: ## pulumi destroy on the stack STACK (YES=1: no question)
	$(RUN) pulumi destroy --stack $(STACK) $(ASSUME_YES)

backup: ## Dump every mode's database of the stack STACK into ./backups (docs/backups-and-migration.md: Backups)
	$(RUN) $(BIN)/python -m hive_infra db dump --stack $(STACK)
