"""The Helm chart: lint, render with each example values file, and every object valid for the API server and
the operators; Kafka topics and users exactly as the contracts declare; secrets only by reference."""

import copy
import importlib.util
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from onestop.analytics.settings import AnalyticsSettings
from onestop.cases.settings import CasesSettings
from onestop.contracts.kafka_access import SERVICES, access_of, consumer_group, provisioned_topics
from onestop.intake.settings import IntakeSettings
from onestop.localinfra.paths import repo_root
from onestop.notify.settings import NotifySettings
from onestop.ops.cli import SERVICES as SERVICE_PORTS
from onestop.routing.settings import RoutingSettings
from onestop.servicekit.auth import AuthSettings
from tests.deploy.chart import (
    CHART,
    CRDS,
    EXAMPLES,
    KUBERNETES_VERSION,
    OPERATORS,
    RenderError,
    by_component,
    chart_annotations,
    crd_schemas,
    of_kind,
    problems,
    render,
    run_helm,
)

SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "routing": RoutingSettings,
    "cases": CasesSettings,
    "notify": NotifySettings,
    "analytics": AnalyticsSettings,
}
EVERY_VALUES = [(), *((name,) for name in EXAMPLES)]


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, ...], list[dict[str, Any]]]:
    return {files: render(files) for files in EVERY_VALUES}


def _env(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_the_chart_has_example_values_for_a_district_a_shared_service_and_an_external_database() -> None:
    assert {"values-district.yaml", "values-shared-service.yaml", "values-external-db.yaml"} <= set(EXAMPLES)


@pytest.mark.parametrize("files", EVERY_VALUES, ids=lambda files: files[0] if files else "defaults")
def test_helm_lint_passes(files: tuple[str, ...]) -> None:
    args = ["lint", "--strict", "--kube-version", KUBERNETES_VERSION, str(CHART)]
    for name in files:
        args += ["-f", str(CHART / name)]
    answer = run_helm(*args)
    assert answer.returncode == 0, answer.stdout + answer.stderr


@pytest.mark.parametrize("files", EVERY_VALUES, ids=lambda files: files[0] if files else "defaults")
def test_every_rendered_object_is_valid(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]], files: tuple[str, ...]
) -> None:
    documents = rendered[files]
    assert len(of_kind(documents, "Deployment")) == 5
    found = [problem for document in documents for problem in problems(document)]
    assert found == []


def test_every_custom_resource_kind_is_rendered_by_some_example(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]],
) -> None:
    """So the CRD checks above are not vacuous: each vendored kind the chart writes appears somewhere."""
    kinds = {(doc["apiVersion"], doc["kind"]) for documents in rendered.values() for doc in documents}
    written = {(api, kind) for api, kind in kinds if api.split("/")[0] in OPERATORS.values()}
    assert written == {
        ("kafka.strimzi.io/v1", "KafkaTopic"),
        ("kafka.strimzi.io/v1", "KafkaUser"),
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("postgresql.cnpg.io/v1", "Database"),
        ("postgresql.cnpg.io/v1", "ScheduledBackup"),
        ("keda.sh/v1alpha1", "ScaledObject"),
        ("keda.sh/v1alpha1", "TriggerAuthentication"),
    }
    assert written <= set(crd_schemas())


def test_the_operator_versions_the_chart_names_are_vendored() -> None:
    for operator in OPERATORS:
        version = chart_annotations()[f"onestop/{operator}-version"]
        assert list((CRDS / f"{operator}-{version}").glob("*.yaml")), f"no CRDs for {operator} {version}"


def _first(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(of_kind(documents, kind)[0])


def test_a_broken_object_is_refused(rendered: dict[tuple[str, ...], list[dict[str, Any]]]) -> None:
    documents = rendered[("values-shared-service.yaml",)]
    broken = []
    deployment = _first(documents, "Deployment")
    deployment["spec"]["replicas"] = "two"
    broken.append(deployment)
    service = _first(documents, "Service")
    service["spec"]["prots"] = service["spec"].pop("ports")  # a field Kubernetes does not know
    broken.append(service)
    topic = _first(documents, "KafkaTopic")
    topic["spec"]["partitions"] = 0
    broken.append(topic)
    misspelt = _first(documents, "KafkaTopic")
    misspelt["spec"]["partitons"] = misspelt["spec"].pop("partitions")
    broken.append(misspelt)
    user = _first(documents, "KafkaUser")
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Eat"]
    broken.append(user)
    cluster = _first(documents, "Cluster")
    cluster["spec"]["instances"] = "three"
    broken.append(cluster)
    scaled = _first(documents, "ScaledObject")
    del scaled["spec"]["scaleTargetRef"]
    broken.append(scaled)
    badly_named = _first(documents, "Deployment")
    badly_named["metadata"]["name"] = "Onestop_Intake"
    broken.append(badly_named)
    unknown = _first(documents, "KafkaTopic")
    unknown["apiVersion"] = "kafka.strimzi.io/v1beta1"  # not served by the vendored Strimzi
    broken.append(unknown)
    for document in broken:
        assert problems(document), f"{document['kind']} {document['metadata']['name']} was not refused"


def test_an_external_database_needs_its_host() -> None:
    with pytest.raises(RenderError, match="database.external.host is required"):
        render(["values-external-db.yaml"], ["database.external.host="])


@pytest.mark.parametrize("files", [(), ("values-shared-service.yaml",)], ids=["defaults", "namespaced"])
def test_the_chart_makes_every_topic_the_contracts_define(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]], files: tuple[str, ...]
) -> None:
    documents = rendered[files]
    namespace = "north-vale." if files else ""
    made = {doc["spec"]["topicName"]: doc["spec"] for doc in of_kind(documents, "KafkaTopic")}
    assert set(made) == {topic.qualified(namespace) for topic in provisioned_topics()}
    for topic in provisioned_topics():
        spec = made[topic.qualified(namespace)]
        assert spec["partitions"] == topic.partitions, topic.name
        assert spec["replicas"] == 3
        assert {key: spec["config"][key] for key in topic.config()} == topic.config(), topic.name
        assert spec["config"]["min.insync.replicas"] == "2"


@pytest.mark.parametrize("files", [(), ("values-shared-service.yaml",)], ids=["defaults", "namespaced"])
def test_each_service_has_a_kafka_user_with_the_acls_of_its_contracts(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]], files: tuple[str, ...]
) -> None:
    documents = rendered[files]
    namespace, prefix = ("north-vale.", "north-vale-") if files else ("", "")
    users = by_component(documents, "KafkaUser")
    assert set(users) == {access.service for access in SERVICES}
    for service, user in users.items():
        access = access_of(service)
        assert user["metadata"]["name"] == prefix + access.username
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        granted = {
            (acl["resource"]["type"], acl["resource"]["name"], acl["resource"]["patternType"], tuple(acl["operations"]))
            for acl in user["spec"]["authorization"]["acls"]
        }
        declared = {
            (rule.resource_type.value, rule.name, rule.pattern.value, tuple(op.value for op in rule.operations))
            for rule in access.rules(namespace)
        }
        assert granted == declared, service
        assert all(acl["type"] == "allow" for acl in user["spec"]["authorization"]["acls"])


def test_the_charts_contracts_file_is_what_the_contracts_say() -> None:
    path = repo_root() / "deploy" / "helm" / "contracts.py"
    spec = importlib.util.spec_from_file_location("chart_contracts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run `python deploy/helm/contracts.py`"


@pytest.mark.parametrize("files", EVERY_VALUES, ids=lambda files: files[0] if files else "defaults")
def test_secrets_are_only_referenced(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]], files: tuple[str, ...]
) -> None:
    documents = rendered[files]
    assert of_kind(documents, "Secret") == []
    for service, deployment in by_component(documents, "Deployment").items():
        env = _env(deployment)
        required = {name.upper() for name, field in SETTINGS[service].model_fields.items() if field.is_required()}
        required |= {f"ONESTOP_AUTH_{name.upper()}" for name, f in AuthSettings.model_fields.items() if f.is_required()}
        secret_names = required | {
            "NOTIFY_GOVUK_API_KEY",
            "DATABASE_PASSWORD",
            f"{service.upper()}_KAFKA_SASL_PASSWORD",
        }
        assert required <= set(env), f"{service} lacks {required - set(env)}"
        for name in secret_names & set(env):
            assert "value" not in env[name] and "secretKeyRef" in env[name]["valueFrom"], f"{service}: {name}"
        assert "$(DATABASE_PASSWORD)" in env[f"{service.upper()}_DATABASE_URL"]["value"]


@pytest.mark.parametrize("files", EVERY_VALUES, ids=lambda files: files[0] if files else "defaults")
def test_each_service_runs_its_module_on_its_port_with_probes_and_a_disruption_budget(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]], files: tuple[str, ...]
) -> None:
    documents = rendered[files]
    deployments, services = by_component(documents, "Deployment"), by_component(documents, "Service")
    budgets = by_component(documents, "PodDisruptionBudget")
    assert set(deployments) == set(SERVICE_PORTS) == set(services) == set(budgets)
    for name, port in SERVICE_PORTS.items():
        pod = deployments[name]["spec"]["template"]
        container = pod["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"onestop.{name}"]
        assert container["ports"][0]["containerPort"] == port
        assert _env(deployments[name])[f"{name.upper()}_HTTP_PORT"]["value"] == str(port)
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        assert "livenessProbe" in container and container["resources"]["requests"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        selector = deployments[name]["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert budgets[name]["spec"]["selector"]["matchLabels"] == selector
        assert services[name]["spec"]["selector"] == selector
        assert services[name]["spec"]["ports"][0]["port"] == port


def test_keda_scales_each_service_on_its_own_consumer_group(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]],
) -> None:
    documents = rendered[("values-shared-service.yaml",)]
    scaled, deployments = by_component(documents, "ScaledObject"), by_component(documents, "Deployment")
    assert set(scaled) == {access.service for access in SERVICES}
    for service, scaled_object in scaled.items():
        groups = {trigger["metadata"]["consumerGroup"] for trigger in scaled_object["spec"]["triggers"]}
        assert groups == {consumer_group(c, "north-vale.") for c in access_of(service).consumers}
        assert scaled_object["spec"]["scaleTargetRef"]["name"] == deployments[service]["metadata"]["name"]
        assert "replicas" not in deployments[service]["spec"]  # KEDA owns the count


def test_the_services_send_telemetry_to_the_councils_collector(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]],
) -> None:
    for deployment in of_kind(rendered[("values-district.yaml",)], "Deployment"):
        assert _env(deployment)["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector.observability:4318"


def test_plaintext_kafka_renders_without_credentials_or_certificates() -> None:
    documents = render(["values-shared-service.yaml"], ["kafka.securityProtocol=PLAINTEXT"])
    assert [problem for document in documents for problem in problems(document)] == []
    for deployment in of_kind(documents, "Deployment"):
        env = _env(deployment)
        assert not any("KAFKA_SASL" in name or name == "KAFKA_SSL_CAFILE" for name in env)
    assert of_kind(documents, "TriggerAuthentication") == []
    for scaled_object in of_kind(documents, "ScaledObject"):
        for trigger in scaled_object["spec"]["triggers"]:
            assert "authenticationRef" not in trigger and trigger["metadata"]["tls"] == "disable"


def test_keda_never_asks_for_more_instances_than_partitions(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]],
) -> None:
    """An instance beyond the partitions of the topics its group reads would get none to read."""
    for service, scaled_object in by_component(rendered[("values-shared-service.yaml",)], "ScaledObject").items():
        widest = max(topic.partitions for topic in access_of(service).reads)
        assert scaled_object["spec"]["maxReplicaCount"] <= widest, service


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("services.cases.replica=2", "additional properties 'replica' not allowed"),
        ("database.mode=postgres", "value must be one of"),
        ("kafka.securityProtocol=TLS", "value must be one of"),
    ],
)
def test_values_the_chart_does_not_know_are_refused(setting: str, reason: str) -> None:
    with pytest.raises(RenderError, match=reason):
        render(settings=[setting])


def test_each_service_has_a_rebuild_job_to_start_by_hand_with_the_services_own_settings(
    rendered: dict[tuple[str, ...], list[dict[str, Any]]],
) -> None:
    documents = rendered[("values-district.yaml",)]
    deployments = by_component(documents, "Deployment")
    jobs = by_component(documents, "CronJob")
    assert set(jobs) == {f"{name}-rebuild" for name in SERVICE_PORTS}
    for name, deployment in deployments.items():
        cron_job = jobs[f"{name}-rebuild"]
        assert cron_job["spec"]["suspend"] is True
        container = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"onestop.{name}", "rebuild"]
        assert container["env"] == deployment["spec"]["template"]["spec"]["containers"][0]["env"]
