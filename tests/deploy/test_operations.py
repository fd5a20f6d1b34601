"""Operations: the alert rules and the dashboard use only metrics the services export, and the compose file
that provisions them is valid for `docker compose` (where its CLI is installed)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from opentelemetry.semconv.metrics import MetricInstruments

from onestop.localinfra.paths import repo_root

DEPLOY = repo_root() / "deploy"
_INSTRUMENT = re.compile(r"create_(counter|histogram|observable_gauge)\(\s*\"([a-z._]+)\"(?:[^)]*?unit=\"([^\"]*)\")?")
_UNIT_SUFFIX = {"s": "_seconds", "ms": "_milliseconds"}


def _prometheus_names(kind: str, name: str, unit: str) -> set[str]:
    """The series the collector's Prometheus exporter makes of one OpenTelemetry instrument."""
    base = name.replace(".", "_") + _UNIT_SUFFIX.get(unit, "")
    if kind == "counter":
        return {base + "_total"}
    if kind == "histogram":
        return {base + suffix for suffix in ("_bucket", "_sum", "_count")}
    return {base}


def exported_metrics() -> set[str]:
    names: set[str] = set()
    for root in (repo_root() / "libs", repo_root() / "services"):
        for path in root.glob("*/src/**/*.py"):
            for kind, name, unit in _INSTRUMENT.findall(path.read_text()):
                names |= _prometheus_names(kind, name, unit)
    # Every service's FastAPI app is instrumented (servicekit.telemetry.instrument_fastapi).
    return names | _prometheus_names("histogram", MetricInstruments.HTTP_SERVER_DURATION, "ms")


def _metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label names in `by (...)` and matchers `{...}` left out)."""
    without_labels = re.sub(r"\{[^}]*\}", "", re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", expr))
    return set(re.findall(r"\b((?:onestop|http)_[a-z_]+)\b", without_labels))


def test_the_services_export_the_metrics_operations_rely_on() -> None:
    assert {"onestop_consumer_lag", "onestop_events_consumed_total"} <= exported_metrics()


def test_every_alert_rule_is_complete_and_uses_exported_metrics() -> None:
    document = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {"OnestopConsumerLagHigh", "OnestopDeadLettersGrowing"}
    for rule in rules:
        assert rule.keys() >= {"alert", "expr", "for", "labels", "annotations"}, rule.get("alert")
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        used = _metrics_in(rule["expr"])
        assert used and used <= exported_metrics(), f"{rule['alert']} uses {used - exported_metrics()}"


def test_the_dashboard_shows_lag_rates_latencies_dead_letters_and_escalations_from_exported_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "onestop.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    used = set().union(*map(_metrics_in, exprs))
    assert used <= exported_metrics(), used - exported_metrics()
    text = " ".join(exprs)
    for needed in ("onestop_consumer_lag", "rate(", "histogram_quantile", 'outcome="dead_lettered"', "case.escalated"):
        assert needed in text


def test_the_collector_gives_prometheus_the_services_metrics() -> None:
    config = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    assert "prometheus" in config["service"]["pipelines"]["metrics"]["exporters"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    port = config["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == [f"otel-collector:{port}"]


def _compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    answer = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    return [docker, "compose"] if answer.returncode == 0 else None


def test_the_compose_file_is_valid(tmp_path: Path) -> None:
    compose = _compose()
    if compose is None:
        pytest.skip("the docker CLI with its compose plugin is not installed")
    secrets = [
        "ONESTOP_AUTH_SECRET",
        "PERSONAL_DATA_KEK",
        "INTAKE_OPEN311_API_KEYS",
        "NOTIFY_WEBHOOK_SECRET",
        "NOTIFY_SURVEY_SECRET",
        "CASES_SEARCH_KEY",
        "POSTGRES_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
        "INTAKE_DATABASE_PASSWORD",
        "ROUTING_DATABASE_PASSWORD",
        "CASES_DATABASE_PASSWORD",
        "NOTIFY_DATABASE_PASSWORD",
        "ANALYTICS_DATABASE_PASSWORD",
    ]
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{name}=placeholder-{index}\n" for index, name in enumerate(secrets)))
    command = [*compose, "--env-file", str(env_file), "-f", str(DEPLOY / "docker-compose.yml"), "config", "--quiet"]
    # Only the env file's values count: the test session's own secrets are kept out of Compose's environment.
    environment = {name: value for name, value in os.environ.items() if name not in secrets}
    answer = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
    assert answer.returncode == 0, answer.stderr
    # A missing secret stops Compose instead of starting a service without it.
    env_file.write_text("".join(f"{name}=x\n" for name in secrets if name != "CASES_SEARCH_KEY"))
    answer = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
    assert answer.returncode != 0 and "CASES_SEARCH_KEY" in answer.stderr


def test_every_onestop_command_the_runbook_names_exists() -> None:
    from onestop.ops.cli import app, dlq_app

    commands = {command.name or command.callback.__name__ for command in app.registered_commands if command.callback}
    subcommands = {"dlq": {command.name for command in dlq_app.registered_commands}}
    runbook = (repo_root() / "docs" / "operations.md").read_text()
    # As code: in backquotes, or as a command inside one (`docker compose ... run --rm cases onestop ...`).
    named = re.findall(r"`(?:[^`]* )?onestop ([a-z0-9-]+)(?: ([a-z][a-z0-9-]*))?", runbook)
    assert named
    for command, subcommand in named:
        if command in subcommands:
            assert not subcommand or subcommand in subcommands[command], f"onestop {command} {subcommand}"
        else:
            assert command in commands, f"onestop {command}"
