# medsupport: the two commands that matter are `make up` and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
INFRA := python3 deploy/local/infra.py
PYTEST_ARGS ?=

.PHONY: help install up down infra test test-unit lint format bench check-deploy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: ## create the virtualenv from uv.lock (installs uv itself if missing)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet

up: install ## start infrastructure, the four services and demo data in the foreground (Ctrl-C stops all)
	@$(UV) run --frozen python deploy/local/run_platform.py

down: ## stop the local Kafka and MongoDB started by this project
	@$(INFRA) down

infra: ## start only Kafka and the MongoDB-protocol server
	@$(INFRA) up

test: install ## run the whole test suite (brings up the infrastructure it needs)
	@$(INFRA) up
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install ## only the tests that need no infrastructure
	@$(UV) run --frozen pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: install ## ruff (lint + format check) and mypy --strict on the shared library and every service
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy shared/src $(wildcard services/*/src)

format: install ## apply ruff's formatting and safe fixes
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

bench: install ## benchmarks against the real local stack (ratios to same-run baselines)
	@$(INFRA) up
	@$(UV) run --frozen python -m bench

check-deploy: install ## validate compose, Kubernetes manifests, dashboards and alert rules
	@$(UV) run --frozen pytest tests/deploy $(PYTEST_ARGS)

clean: down ## stop infrastructure and remove local state
	rm -rf .state
