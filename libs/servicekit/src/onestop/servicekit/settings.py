"""Settings read from the environment, then `.env` (written by `make infra-up`), then defaults."""

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# Values that once shipped as defaults, so anyone can look them up: never accepted as a secret.
WELL_KNOWN_SECRETS = frozenset(
    {
        "onestop-development-secret-change-me-in-production",
        "dev-open311-key",
        "onestop-development-webhook-secret",
        "onestop-development-survey-secret",
    }
)


def check_secret(setting: str, value: str) -> str:
    """`value` if it may serve as the secret `setting`; ValueError naming the setting if it is empty or well known."""
    if not value.strip():
        raise ValueError(f"{setting} is empty; set it to a long random value (`make infra-up` makes one locally)")
    if value.strip() in WELL_KNOWN_SECRETS:
        raise ValueError(f"{setting} is a published development value; set it to a long random value of your own")
    return value


def check_personal_data_kek(value: str) -> str:
    """`value` if it can be the key-encryption key (the base64 of 32 bytes); ValueError naming the setting."""
    make_one = "make one with `python -c 'from onestop.servicekit.personal_data import new_kek; print(new_kek())'`"
    if not value.strip():
        raise ValueError(f"PERSONAL_DATA_KEK is empty: personal data is never published in the clear; {make_one}")
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise ValueError(f"PERSONAL_DATA_KEK is not base64; {make_one}") from None
    if len(key) != 32:
        raise ValueError(f"PERSONAL_DATA_KEK holds {len(key)} bytes, not the 32 of an AES-256 key; {make_one}")
    return value.strip()


def database_url_of(service: str) -> Any:
    """A service's `database_url` field: its own `<SERVICE>_DATABASE_URL` when set, else DATABASE_URL.

    `make infra-up` gives each service a role of its own and writes them all to one `.env`. A setting in the
    environment still beats one in `.env`, so an exported DATABASE_URL (tests, external servers) wins."""
    return Field(default=DEFAULT_DATABASE_URL, validation_alias=AliasChoices(f"{service}_database_url", "database_url"))


class ServiceSettings(BaseSettings):
    """Base settings of every service; a service subclasses it and sets `service_name`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    service_name: str = "onestop"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # The server; each service uses its own database on it, named `onestop_<service>`.
    database_url: str = DEFAULT_DATABASE_URL
    # The service's own database on that server; empty means `onestop_<service>`.
    database: str = ""
    # Prefixes topic and consumer-group names: isolates one installation, or one test, from another.
    topic_namespace: str = ""
    # Base64 of the 32-byte key that wraps every customer's data key. Required: personal data is never
    # published in the clear (`make infra-up` makes one locally).
    personal_data_kek: str
    # While the key-encryption key is rotated: the keys it replaces, comma-separated, which still unwrap the
    # customer keys written before `onestop rotate-personal-data-kek` wrapped them again (docs/operations.md).
    personal_data_previous_keks: str = ""
    # Where OpenTelemetry spans go (OTLP over HTTP); empty keeps them in the process.
    otel_exporter_otlp_endpoint: str = ""
    # The share of journeys traced (parent-based: a journey is traced whole or not at all).
    otel_traces_sample_ratio: float = Field(default=0.1, ge=0, le=1)
    # A span for every SQL statement: detail for a waterfall, at about a sixth of each service's CPU.
    otel_sql_spans: bool = False

    @field_validator("personal_data_kek")
    @classmethod
    def _a_key_encryption_key(cls, value: str) -> str:
        return check_personal_data_kek(value)

    @field_validator("personal_data_previous_keks")
    @classmethod
    def _previous_key_encryption_keys(cls, value: str) -> str:
        for previous in filter(None, (part.strip() for part in value.split(","))):
            check_personal_data_kek(previous)
        return value

    @property
    def previous_keks(self) -> list[str]:
        return [part.strip() for part in self.personal_data_previous_keks.split(",") if part.strip()]

    @property
    def database_name(self) -> str:
        return self.database or f"onestop_{self.service_name}".replace("-", "_")

    @property
    def source(self) -> str:
        """The CloudEvents `source` of everything this service publishes."""
        return f"/onestop/{self.service_name}"

    @property
    def service_database_url(self) -> str:
        return with_database(self.database_url, self.database_name)

    def consumer_group(self, name: str | None = None) -> str:
        return f"{self.topic_namespace}onestop.{name or self.service_name}"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))
