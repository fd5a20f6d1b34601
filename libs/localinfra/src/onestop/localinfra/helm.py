"""Helm, which lints and renders the chart in deploy/helm: `make install` builds it into .local/bin with Go,
from the Go module proxy (the same way as Mailpit), so no release binary is downloaded from anywhere else.
"""

import os
import shutil
import subprocess
from pathlib import Path

from onestop.localinfra.mailpit import GO_FALLBACK
from onestop.localinfra.paths import repo_root

HELM_MODULE = "helm.sh/helm/v3"
HELM_VERSION = "v3.22.0"
# The Kubernetes minor version of the client-go that Helm release is built with (its go.mod: k8s.io/client-go v0.37).
KUBERNETES_MINOR = "37"


def go_command() -> str:
    """Go from PATH, or where Go's own installer puts it (as Mailpit's build finds it)."""
    found = shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.exists() else None)
    if found is None:
        raise RuntimeError("Go is needed to build Helm and dockerfile-lint from the Go module proxy")
    return found


def binary() -> Path:
    return repo_root() / ".local" / "bin" / "helm"


def installed_version(path: Path) -> str | None:
    try:
        answer = subprocess.run(
            [str(path), "version", "--template", "{{.Version}}"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return answer.stdout.strip() or None


def ensure_installed() -> Path:
    """Build Helm into .local/bin unless the version there is already the one wanted."""
    target = binary()
    if target.exists() and installed_version(target) == HELM_VERSION:
        return target
    go = go_command()
    print(f"building Helm {HELM_VERSION} (Go module proxy) ...", flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A `go install` build leaves the variables Helm's own release build sets (its Makefile's LDFLAGS) at their
    # source defaults: its version, so that `helm version` (and the check above) names the release, and the
    # Kubernetes version `helm template` and `helm lint` assume without a cluster (else 1.20).
    flags = [f"-X {HELM_MODULE}/internal/version.version={HELM_VERSION}"]
    for package in ("pkg/lint/rules", "pkg/chartutil"):
        flags += [
            f"-X {HELM_MODULE}/{package}.k8sVersionMajor=1",
            f"-X {HELM_MODULE}/{package}.k8sVersionMinor={KUBERNETES_MINOR}",
        ]
    subprocess.run(
        [go, "install", "-ldflags", " ".join(["-s", "-w", *flags]), f"{HELM_MODULE}/cmd/helm@{HELM_VERSION}"],
        env={**os.environ, "GOBIN": str(target.parent), "CGO_ENABLED": "0"},
        check=True,
    )
    if installed_version(target) != HELM_VERSION:
        raise RuntimeError(f"Helm built into {target} does not report {HELM_VERSION}")
    return target
