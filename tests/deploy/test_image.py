"""The container image: deploy/Dockerfile passes BuildKit's checks (`docker build --check` rules, run by
dockerfile-lint without an engine), builds in two stages from the lock file, and runs as a numeric non-root user;
the build context never carries local settings, secrets or state."""

import subprocess
from pathlib import Path

import pytest

from onestop.localinfra import dockerfile_lint
from onestop.localinfra.paths import repo_root

DOCKERFILE = repo_root() / "deploy" / "Dockerfile"


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    linter = dockerfile_lint.binary()
    if not linter.exists():
        pytest.fail(f"dockerfile-lint is not installed at {linter}: run `make install`")
    return subprocess.run([str(linter), str(path)], capture_output=True, text=True, timeout=60)


def test_the_dockerfile_passes_buildkits_checks() -> None:
    answer = _lint(DOCKERFILE)
    assert answer.returncode == 0, answer.stdout + answer.stderr


def test_a_dockerfile_breaking_the_rules_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text("from python:3.11-slim as Build\nMAINTAINER someone\nCMD python -m onestop.cases\n")
    answer = _lint(broken)
    assert answer.returncode == 1
    for rule in ("ConsistentInstructionCasing", "MaintainerDeprecated", "JSONArgsRecommended"):
        assert rule in answer.stdout


def _instructions() -> list[tuple[str, str]]:
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1] if " " in line else "")
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_image_is_built_from_the_lock_without_development_tools_and_runs_as_a_numeric_user() -> None:
    instructions = _instructions()
    stages = [argument for name, argument in instructions if name == "FROM"]
    assert len(stages) == 2, "a builder stage and a runtime stage"
    runs = " ".join(argument for name, argument in instructions if name == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    users = [argument for name, argument in instructions if name == "USER"]
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) > 0 and (not group or group.isdigit())
    final_stage = instructions[[name for name, _ in instructions].index("FROM", 2) :]
    assert not any(name in ("COPY", "ADD") and "--from=builder" not in argument for name, argument in final_stage)


def test_the_build_context_leaves_out_settings_secrets_and_local_state() -> None:
    patterns = {line.strip() for line in (repo_root() / ".dockerignore").read_text().splitlines()}
    assert {".env", "**/.env", ".local/", ".venv/", ".git/"} <= patterns
