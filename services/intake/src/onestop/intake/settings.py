"""The intake service's settings; shared ones come from ServiceSettings."""

from pydantic import Field, field_validator

from onestop.servicekit.settings import ServiceSettings, check_secret, database_url_of

OPEN311_KEYS_SETTING = "INTAKE_OPEN311_API_KEYS"


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    database_url: str = database_url_of("intake")
    intake_http_host: str = "127.0.0.1"
    intake_http_port: int = 8001
    # Open311 API keys: "key:client,key:client". Each outside reporting site gets its own key
    # (`onestop open311-key <client>` makes one). Required: no default.
    intake_open311_api_keys: str
    # How long a batch of contacts may wait for Kafka's commit before its callers get 503.
    intake_publish_timeout_seconds: float = Field(default=10.0, gt=0)
    # Group commit: contacts arriving together share one database and one Kafka transaction. A batch closes
    # when it holds this many contacts or its first has waited this long.
    intake_group_commit_max_wait_ms: float = Field(default=3.0, ge=0)
    intake_group_commit_max_contacts: int = Field(default=200, gt=0)
    # Batches committing at once, each with a transactional producer of its own (a batch mostly waits on Kafka).
    intake_group_commit_batches_in_flight: int = Field(default=2, ge=1, le=8)
    # How long the broker may hold a fetch of case progress to gather events: how far behind the log what
    # Open311 clients read of their requests may be (intake is otherwise woken by nearly every case event).
    intake_progress_gather_ms: int = Field(default=500, ge=0, le=30_000)
    intake_max_attachment_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # An upload that no contact names within this many hours is dropped: it belongs to no one.
    intake_unclaimed_upload_hours: float = Field(default=24.0, gt=0)
    intake_public_base_url: str = "http://127.0.0.1:8001"

    @field_validator("intake_open311_api_keys")
    @classmethod
    def _every_key_is_safe(cls, value: str) -> str:
        check_secret(OPEN311_KEYS_SETTING, value)
        for item in value.split(","):
            key, _, client = item.partition(":")
            if not client.strip():
                raise ValueError(f"{OPEN311_KEYS_SETTING} must list key:client pairs; an entry has no client")
            check_secret(f"a key in {OPEN311_KEYS_SETTING} (client {client.strip()})", key)
        return value

    def open311_clients(self) -> dict[str, str]:
        pairs = (item.split(":", 1) for item in self.intake_open311_api_keys.split(","))
        return {key.strip(): client.strip() for key, client in pairs}
