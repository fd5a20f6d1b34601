# onestop: the developer's front door. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
IMAGE_TAG ?= dev

.PHONY: image helm-check install install-kafka install-mailpit install-helm install-dockerfile-lint install-keycloak install-desk-assets lint format test test-unit test-integration fuzz chaos run infra-up infra-up-cluster infra-up-acls infra-down infra-status schemas docs bench clean

install:  ## the Python workspace (uv, locked), the Kafka broker's jars, Mailpit (Go and npm), Helm and dockerfile-lint (Go), Keycloak
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.9"
	$(UV) sync --frozen --all-packages
	@# The tools are independent: downloads and builds overlap (each is skipped when already in place).
	@$(MAKE) --no-print-directory -j6 -O install-kafka install-mailpit install-helm install-dockerfile-lint install-keycloak install-desk-assets

install-kafka:
	$(RUN) python -c "from onestop.localinfra.kafka import ensure_jars; ensure_jars()"

install-mailpit:
	$(RUN) python -c "from onestop.localinfra.mailpit import ensure_installed; ensure_installed()"

install-helm:
	$(RUN) python -c "from onestop.localinfra.helm import ensure_installed; ensure_installed()"

install-dockerfile-lint:
	$(RUN) python -c "from onestop.localinfra.dockerfile_lint import ensure_installed; ensure_installed()"

install-keycloak:
	$(RUN) python -c "from onestop.localinfra.keycloak import ensure_installed; ensure_installed()"

install-desk-assets:  ## the desk's GOV.UK Frontend and axe-core, at the versions services/desk/package-lock.json pins
	@mkdir -p .local/npm && if ! cmp -s services/desk/package-lock.json .local/npm/package-lock.json \
		|| [ ! -d .local/npm/node_modules/govuk-frontend ]; then \
		cp services/desk/package.json services/desk/package-lock.json .local/npm/ \
		&& npm ci --prefix .local/npm --no-audit --no-fund; fi

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

chaos: install  ## the failure run at length: three brokers, two instances of each service, kills under load
	CHAOS_CONTACTS=$${CHAOS_CONTACTS:-2000} CHAOS_RATE=$${CHAOS_RATE:-6} CHAOS_ROUNDS=$${CHAOS_ROUNDS:-3} \
		$(RUN) pytest -m chaos tests/chaos

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

image:  ## the services' container image, onestop:$(IMAGE_TAG) (needs a Docker engine)
	@docker info >/dev/null 2>&1 || { echo "make image: no Docker engine answers \`docker info\` here; build deploy/Dockerfile where one runs" >&2; exit 1; }
	docker build -f deploy/Dockerfile -t onestop:$(IMAGE_TAG) .

helm-check: install  ## lint and render the Helm chart with each example values file, and validate every object
	$(RUN) pytest tests/deploy

bench: install  ## benchmarks beside their raw references; writes bench/results/latest.json and .md
	$(RUN) python -m bench $(BENCH_ARGS)
