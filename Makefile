# onestop: the developer's front door. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen

.PHONY: install lint format test test-unit test-integration fuzz run infra-up infra-up-cluster infra-up-acls infra-down infra-status schemas docs bench clean

install:  ## the Python workspace (uv, locked), the Kafka broker's jars and Mailpit (built with Go and npm)
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.9"
	$(UV) sync --frozen --all-packages
	$(RUN) python -c "from onestop.localinfra.kafka import ensure_jars; ensure_jars()"
	$(RUN) python -c "from onestop.localinfra.mailpit import ensure_installed; ensure_installed()"

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

fuzz: install  ## schemathesis: 200 requests to every operation of the five services, run as processes
	FUZZ_EXAMPLES=200 FUZZ_SEED=random $(RUN) pytest tests/fuzz

infra-up: install
	$(RUN) python -m onestop.localinfra up

infra-up-cluster: install  ## three Kafka nodes, for replication and fail-over
	$(RUN) python -m onestop.localinfra up --brokers 3

infra-up-acls: install  ## Kafka with SASL/SCRAM and ACLs: each service signs in as itself, with only its own rights
	$(RUN) python -m onestop.localinfra up --kafka-acls

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
