"""How every Kafka client connects: plaintext by default, TLS and SASL when the environment says so.

KAFKA_SECURITY_PROTOCOL   PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
KAFKA_SASL_MECHANISM      PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD
KAFKA_SSL_CAFILE          the CA that signed the brokers' certificates (else the system's CAs)
KAFKA_SSL_CERTFILE, KAFKA_SSL_KEYFILE   a client certificate, for brokers that ask for one

Read from the environment, then `.env`, like every other setting, so one installation sets it once.
A service signs in as itself: `<SERVICE>_KAFKA_SASL_USERNAME` and `<SERVICE>_KAFKA_SASL_PASSWORD`
(INTAKE_KAFKA_SASL_USERNAME, ...) come before the KAFKA_ ones, so one `.env` can hold every service's
credentials while the broker's ACLs give each only its own rights.
"""

from typing import Any, Literal

from aiokafka.helpers import create_ssl_context  # type: ignore[import-untyped]
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSecurity(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""

    @classmethod
    def of(cls, service: str = "") -> "KafkaSecurity":
        """The settings `service` connects with: its own credentials when it has them, else the shared ones."""
        if service:
            own = _Credentials(_env_prefix=f"{service.upper()}_KAFKA_")
            if own.sasl_username:
                return cls(sasl_username=own.sasl_username, sasl_password=own.sasl_password)
        return cls()

    @model_validator(mode="after")
    def _credentials_with_sasl(self) -> "KafkaSecurity":
        if self.uses_sasl and not self.sasl_username:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME"
                " (or the service's own, e.g. INTAKE_KAFKA_SASL_USERNAME)"
            )
        return self

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    def ssl_context(self) -> Any:
        if not self.uses_ssl:
            return None
        return create_ssl_context(
            cafile=self.ssl_cafile or None, certfile=self.ssl_certfile or None, keyfile=self.ssl_keyfile or None
        )

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin clients."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.uses_ssl:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password.get_secret_value(),
            }
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same, as faststream's broker takes it."""
        if not self.uses_ssl and not self.uses_sasl:
            return None
        context, password = self.ssl_context(), self.sasl_password.get_secret_value()
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        kind = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
        return kind[self.sasl_mechanism](self.sasl_username, password, ssl_context=context, use_ssl=self.uses_ssl)


class _Credentials(BaseSettings):
    """One service's own SASL credentials, under its prefix."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")


# The service this process runs, whose credentials its Kafka clients sign in with; empty for tools.
_service = ""


def use_credentials_of(service: str) -> None:
    """From now on, every Kafka client of this process signs in as `service` (when it has credentials)."""
    global _service
    _service = service


def kafka_options() -> dict[str, Any]:
    """The connection options every aiokafka client in onestop is built with."""
    return KafkaSecurity.of(_service).client_options()
