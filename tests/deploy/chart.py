"""Renders the Helm chart and validates what it renders: built-in kinds against the Kubernetes schemas that
kubernetes-validate ships, custom resources against the CRDs of the operator versions the chart names."""

import re
import subprocess
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from onestop.localinfra import helm
from onestop.localinfra.paths import repo_root

# The Kubernetes release the chart is rendered for and validated against.
KUBERNETES_VERSION = "1.36.0"
CHART = repo_root() / "deploy" / "helm" / "onestop"
CRDS = repo_root() / "deploy" / "helm" / "crds-for-validation"
EXAMPLES = sorted(path.name for path in CHART.glob("values-*.yaml"))
OPERATORS = {"strimzi": "kafka.strimzi.io", "cloudnative-pg": "postgresql.cnpg.io", "keda": "keda.sh"}

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def helm_binary() -> Path:
    path = helm.binary()
    if not path.exists():
        pytest.fail(f"Helm is not installed at {path}: run `make install`")
    return path


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm_binary()), *args], capture_output=True, text=True, timeout=120)


def render(values_files: Iterable[str] = (), settings: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every object `helm template` renders with the chart's example values files and `--set` settings."""
    args = ["template", "onestop", str(CHART), "--namespace", "council", "--kube-version", KUBERNETES_VERSION]
    for name in values_files:
        args += ["-f", str(CHART / name)]
    for setting in settings:
        args += ["--set", setting]
    answer = run_helm(*args)
    if answer.returncode:
        raise RenderError(answer.stderr)
    return [document for document in yaml.safe_load_all(answer.stdout) if document]


class RenderError(Exception):
    pass


def chart_annotations() -> dict[str, str]:
    return dict(yaml.safe_load((CHART / "Chart.yaml").read_text())["annotations"])


def operator_version(operator: str) -> str:
    return chart_annotations()[f"onestop/{operator}-version"]


def _refuse_unknown_fields(schema: Any) -> Any:
    """The CRD's schema as the API server applies it with strict field validation (kubectl's default): an
    object's unknown fields are refused, unless the schema keeps unknown fields."""
    if isinstance(schema, list):
        return [_refuse_unknown_fields(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _refuse_unknown_fields(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the openAPIV3Schema of every served version of every vendored CRD."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for operator in OPERATORS:
        folder = CRDS / f"{operator}-{operator_version(operator)}"
        for path in sorted(folder.glob("*.yaml")):
            crd = yaml.safe_load(path.read_text())
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = _refuse_unknown_fields(version["schema"]["openAPIV3Schema"])
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def problems(document: dict[str, Any]) -> list[str]:
    """Why the API server would refuse `document`; empty if it would take it."""
    kind, api_version = document.get("kind", "?"), document.get("apiVersion", "?")
    name = str(document.get("metadata", {}).get("name", ""))
    where = f"{kind} {name}"
    found = []
    if not _DNS_SUBDOMAIN.match(name) or len(name) > 253:
        found.append(f"{where}: the name is not a DNS subdomain")
    if kind == "Service" and (not _DNS_LABEL.match(name) or len(name) > 63):
        found.append(f"{where}: a Service's name must be a DNS label")
    for label, value in document.get("metadata", {}).get("labels", {}).items():
        if len(str(value)) > 63:
            found.append(f"{where}: label {label} is longer than 63 characters")
    schema = crd_schemas().get((api_version, kind))
    if schema is not None:
        validator = jsonschema.Draft7Validator(schema)
        for error in validator.iter_errors(document):
            found.append(f"{where}: {'.'.join(map(str, error.absolute_path))}: {error.message}")
        return found
    if api_version.split("/")[0] in OPERATORS.values():
        return [*found, f"{where}: {api_version} is not served by the vendored CRDs"]
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        found.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError:
        found.append(f"{where}: Kubernetes {KUBERNETES_VERSION} has no {api_version} {kind}")
    return found


def of_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [document for document in documents if document["kind"] == kind]


def by_component(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["labels"]["app.kubernetes.io/component"]: doc for doc in of_kind(documents, kind)}
