"""Settings read from the environment, then `.env` (written by `make infra-up`), then defaults."""

from urllib.parse import urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Base settings of every service; a service subclasses it and sets `service_name`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    service_name: str = "onestop"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # The server; each service uses its own database on it, named `onestop_<service>`.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    # The service's own database on that server; empty means `onestop_<service>`.
    database: str = ""
    # Prefixes topic and consumer-group names: isolates one installation, or one test, from another.
    topic_namespace: str = ""
    # Base64 of the 32-byte key that wraps every customer's data key; empty leaves personal data in the clear.
    personal_data_kek: str = ""
    # Where OpenTelemetry spans go (OTLP over HTTP); empty keeps them in the process.
    otel_exporter_otlp_endpoint: str = ""
    # The share of journeys traced (parent-based: a journey is traced whole or not at all).
    otel_traces_sample_ratio: float = Field(default=0.1, ge=0, le=1)
    # A span for every SQL statement: detail for a waterfall, at about a sixth of each service's CPU.
    otel_sql_spans: bool = False

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
