# onestop: the developer's front door. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen

.PHONY: install lint format test test-unit test-integration run infra-up infra-up-cluster infra-down infra-status schemas docs bench clean

install:  ## the Python workspace (uv, locked) and the Kafka broker's jars
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.9"
	$(UV) sync --frozen --all-packages
	$(RUN) python -c "from onestop.localinfra.kafka import ensure_jars; ensure_jars()"

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) python -m onestop.contracts.schemas check

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

test: install lint  ## the full suite, against a real Kafka broker and PostgreSQL
	$(RUN) pytest

test-unit: install
	$(RUN) pytest -m "not integration"

test-integration: install
	$(RUN) pytest -m integration

infra-up: install
	$(RUN) python -m onestop.localinfra up

infra-up-cluster: install  ## three Kafka nodes, for replication and fail-over
	$(RUN) python -m onestop.localinfra up --brokers 3

infra-down:
	$(RUN) python -m onestop.localinfra down

infra-status:
	$(RUN) python -m onestop.localinfra status

run: infra-up  ## infrastructure, every service and demo data
	$(RUN) python -m onestop.ops.run

schemas: install  ## export the event catalogue's JSON Schemas (refuses breaking changes)
	$(RUN) python -m onestop.contracts.schemas export

docs: install  ## the AsyncAPI document of every topic and event
	$(RUN) python -m onestop.servicekit.asyncapi docs/asyncapi.json

clean: infra-down
	rm -rf .local .env

bench: install  ## benchmarks beside their raw references; writes bench/results/latest.json and .md
	$(RUN) python -m bench $(BENCH_ARGS)
