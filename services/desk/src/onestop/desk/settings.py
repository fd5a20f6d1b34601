"""The desk's settings. The desk keeps no data of its own: no database, no Kafka. It signs staff in through
the council's OpenID Connect provider and calls the services' published HTTP APIs on their behalf."""

from datetime import timedelta

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onestop.servicekit.settings import check_secret


class DeskSettings(BaseSettings):
    """Not a ServiceSettings: the desk has no database, no broker and no personal-data key to hold."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    service_name: str = "desk"
    desk_http_host: str = "127.0.0.1"
    desk_http_port: int = 8006
    # Where staff open the desk: the provider sends them back to <this>/auth/callback after signing in.
    desk_public_base_url: str = "http://127.0.0.1:8006"
    # The services' published APIs.
    desk_cases_url: str = "http://127.0.0.1:8003"
    desk_intake_url: str = "http://127.0.0.1:8001"
    desk_notify_url: str = "http://127.0.0.1:8004"
    desk_analytics_url: str = "http://127.0.0.1:8005"
    # The OpenID Connect provider (its discovery document is <issuer>/.well-known/openid-configuration).
    desk_oidc_issuer: str = "http://127.0.0.1:8180/realms/onestop"
    desk_oidc_client_id: str = "onestop-desk"
    # The desk's client secret at the provider. Required: no default.
    desk_oidc_client_secret: str
    # Signs the session cookie. Required: no default.
    desk_session_secret: str
    # Send the session cookie over HTTPS only: on wherever the desk is served over HTTPS (anywhere but here).
    desk_session_https_only: bool = False
    # A working day: staff sign in again after it.
    desk_session_lifetime: timedelta = Field(default=timedelta(hours=8), gt=timedelta(0), le=timedelta(hours=12))
    # How long a token minted for one call to a service lives.
    desk_service_token_lifetime: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0), le=timedelta(hours=8))

    @field_validator("desk_oidc_client_secret", "desk_session_secret")
    @classmethod
    def _secrets_are_safe(cls, value: str, info: ValidationInfo) -> str:
        return check_secret(str(info.field_name).upper(), value)

    @property
    def discovery_url(self) -> str:
        return self.desk_oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def callback_url(self) -> str:
        return self.desk_public_base_url.rstrip("/") + "/auth/callback"
