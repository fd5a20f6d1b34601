"""What a service reads as it starts: its own settings and the token settings. A setting that is missing or
unsafe (a secret left empty, or one of the published development values) stops the service there, with the
setting's name and the reason, rather than at its first request."""

from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from onestop.servicekit.auth import AuthSettings, process_auth_settings
from onestop.servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def read_settings(settings_class: type[S]) -> S:
    """`settings_class()`, having read the token settings too; SystemExit with every reason otherwise."""
    reasons: list[str] = []
    try:
        settings = settings_class()
    except ValidationError as exc:
        reasons += setting_problems(exc, settings_class)
    try:
        process_auth_settings()
    except ValidationError as exc:
        reasons += setting_problems(exc, AuthSettings)
    if reasons:
        service = settings_class.model_fields["service_name"].default
        raise SystemExit(f"onestop {service} cannot start:\n" + "\n".join(f"  {reason}" for reason in reasons))
    return settings


def setting_problems(error: ValidationError, settings_type: type[BaseSettings]) -> list[str]:
    """Each problem of `error` in a line that names the setting as it is set (INTAKE_HTTP_PORT, ...)."""
    prefix = str(settings_type.model_config.get("env_prefix", ""))
    reasons = []
    for problem in error.errors():
        setting = (prefix + ".".join(str(part) for part in problem["loc"])).upper()
        if problem["type"] == "missing":
            reasons.append(f"{setting} is not set")
        elif problem["type"] == "value_error":  # our validators' messages name the setting themselves
            reasons.append(str(problem["msg"]).removeprefix("Value error, "))
        else:
            reasons.append(f"{setting}: {problem['msg']}")
    return reasons
