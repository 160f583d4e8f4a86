# medsupport: the two commands that matter are `make up` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
BOOTSTRAP := $(PYTHON) deploy/local/bootstrap.py
# an installed uv, else the copy the bootstrap installs into .tools/ (no system pip needed)
UV := $(shell $(BOOTSTRAP) --which-uv 2>/dev/null || echo "$(CURDIR)/.tools/uv-env/bin/uv")
INFRA := $(PYTHON) deploy/local/infra.py
PYTEST_ARGS ?=

.PHONY: help install up down infra test test-unit lint format bench check-deploy openapi clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: ## create the virtualenv from uv.lock (installs uv into .tools/ if missing)
	@$(BOOTSTRAP) install

up: ## check prerequisites, install, start infrastructure, the four services, Prometheus and demo data (Ctrl-C stops all)
	@$(BOOTSTRAP) up
	@$(UV) run --frozen python deploy/local/run_platform.py

down: ## stop the local Kafka and MongoDB started by this project
	@$(INFRA) down

infra: ## start only Kafka and the MongoDB-protocol server
	@$(INFRA) up

test: ## check prerequisites, install, bring up the infrastructure, run the whole test suite
	@$(BOOTSTRAP) test
	@$(INFRA) up
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install ## only the tests that need no infrastructure
	@$(UV) run --frozen pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: install ## ruff (lint + format check) and mypy --strict on the shared library, every service, the console and the admin CLI
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy shared/src $(wildcard services/*/src) console/src cli/src

format: install ## apply ruff's formatting and safe fixes
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

bench: install ## benchmarks against the real local stack (ratios to same-run baselines)
	@$(INFRA) up
	@$(UV) run --frozen python -m bench

check-deploy: install ## validate compose, Kubernetes manifests, dashboards and alert rules
	@$(UV) run --frozen pytest tests/deploy $(PYTEST_ARGS)

openapi: install ## after an API change: export docs/openapi/*.json and regenerate the TypeScript client from them
	@$(UV) run --frozen python -m tools.openapi_export

clean: ## stop infrastructure and remove local state (a PostgreSQL cluster kept outside .state too) and the local uv
	@$(INFRA) clean
	rm -rf .state .tools
