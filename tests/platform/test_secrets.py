"""No built-in secrets: a service will not start without its own, and `make infra-up` makes them privately."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onestop.intake.settings import IntakeSettings
from onestop.localinfra.__main__ import write_env
from onestop.notify.settings import NotifySettings
from onestop.ops.cli import app as onestop_command
from onestop.servicekit.auth import AuthSettings, verify_token
from onestop.servicekit.settings import WELL_KNOWN_SECRETS

SECRETS = ("ONESTOP_AUTH_SECRET", "INTAKE_OPEN311_API_KEYS", "NOTIFY_WEBHOOK_SECRET", "NOTIFY_SURVEY_SECRET")


def start_service(service: str, cwd: Path, **settings: str | None) -> subprocess.CompletedProcess[str]:
    """`python -m onestop.<service>` in `cwd` (no `.env` there), with `settings` set, or unset where None."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-m", f"onestop.{service}"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("service", "setting", "value", "reason"),
    [
        ("intake", "INTAKE_OPEN311_API_KEYS", None, "INTAKE_OPEN311_API_KEYS is not set"),
        ("intake", "INTAKE_OPEN311_API_KEYS", "dev-open311-key:local-demo", "INTAKE_OPEN311_API_KEYS"),
        ("routing", "ONESTOP_AUTH_SECRET", None, "ONESTOP_AUTH_SECRET is not set"),
        ("cases", "ONESTOP_AUTH_SECRET", "onestop-development-secret-change-me-in-production", "ONESTOP_AUTH_SECRET"),
        ("notify", "NOTIFY_WEBHOOK_SECRET", "onestop-development-webhook-secret", "NOTIFY_WEBHOOK_SECRET"),
        ("notify", "NOTIFY_SURVEY_SECRET", "", "NOTIFY_SURVEY_SECRET is empty"),
    ],
)
def test_a_service_without_a_safe_secret_stops_at_start_naming_it(
    tmp_path: Path, service: str, setting: str, value: str | None, reason: str
) -> None:
    ended = start_service(service, tmp_path, **{setting: value})
    assert ended.returncode != 0
    assert f"onestop {service} cannot start" in ended.stderr
    assert reason in ended.stderr
    assert "Traceback" not in ended.stderr, "one clear message, not a stack"


def test_well_known_values_are_refused_wherever_they_are_set() -> None:
    for value in WELL_KNOWN_SECRETS:
        with pytest.raises(ValueError, match="published development value"):
            NotifySettings(notify_webhook_secret=value)
    with pytest.raises(ValueError, match="INTAKE_OPEN311_API_KEYS"):
        IntakeSettings(intake_open311_api_keys="a-real-key:fixmystreet,dev-open311-key:local-demo")
    with pytest.raises(ValueError, match="no client"):
        IntakeSettings(intake_open311_api_keys="a-key-without-its-client")


def test_infra_up_writes_its_generated_secrets_to_an_env_file_only_its_owner_can_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONESTOP_STATE_DIR", str(tmp_path / "state"))
    env_file = tmp_path / ".env"
    monkeypatch.setenv("ONESTOP_ENV_FILE", str(env_file))
    env_file.write_text("an older file anyone could read\n")
    env_file.chmod(0o644)
    roles = {"intake": "postgresql://onestop_intake:pw@127.0.0.1:5432/onestop_intake"}

    write_env("127.0.0.1:9092", "postgresql://postgres:pw@127.0.0.1:5432/postgres", roles)

    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    written = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if not line.startswith("#"))
    assert written["INTAKE_DATABASE_URL"] == roles["intake"]
    for setting in SECRETS:
        assert written[setting].strip(), f"{setting} is generated"
        assert written[setting] not in WELL_KNOWN_SECRETS
    assert written["INTAKE_OPEN311_API_KEYS"].endswith(":local-demo")
    assert written["PERSONAL_DATA_KEK"]
    kept = sorted((tmp_path / "state").iterdir())
    assert kept and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in kept)

    # Made once: writing the settings again keeps this installation's secrets.
    write_env("127.0.0.1:9092", "postgresql://postgres:pw@127.0.0.1:5432/postgres", roles)
    assert all(f"{setting}={written[setting]}\n" in env_file.read_text() for setting in SECRETS)

    # And the services accept what was written.
    for setting in (*SECRETS, "PERSONAL_DATA_KEK"):
        monkeypatch.delenv(setting, raising=False)
    assert IntakeSettings(_env_file=env_file).open311_clients() == {
        written["INTAKE_OPEN311_API_KEYS"].split(":")[0]: "local-demo"
    }
    assert NotifySettings(_env_file=env_file).notify_survey_secret == written["NOTIFY_SURVEY_SECRET"]
    assert AuthSettings(_env_file=env_file).secret == written["ONESTOP_AUTH_SECRET"]


def test_an_integrator_gets_an_open311_key_or_a_token_from_the_ops_command() -> None:
    runner = CliRunner()
    line = runner.invoke(onestop_command, ["open311-key", "fixmystreet"]).output.strip()
    key, client = line.split(":")
    assert client == "fixmystreet"
    assert IntakeSettings(intake_open311_api_keys=line).open311_clients() == {key: "fixmystreet"}

    minted = runner.invoke(
        onestop_command, ["token", "--scope", "backoffice:write", "--service-area", "waste", "--subject", "waste-lob"]
    )
    principal = verify_token(minted.output.strip())
    assert (principal.subject, principal.scopes, principal.service_areas) == (
        "waste-lob",
        frozenset({"backoffice:write"}),
        frozenset({"waste"}),
    )
    unfenced = runner.invoke(onestop_command, ["token", "--scope", "backoffice:write"])
    assert unfenced.exit_code != 0
    assert "--service-area" in unfenced.output
    for_ever = runner.invoke(onestop_command, ["token", "--scope", "cases:read", "--minutes", str(60 * 24 * 365)])
    assert for_ever.exit_code != 0
    assert "ONESTOP_AUTH_MAX_TOKEN_LIFETIME" in for_ever.output
