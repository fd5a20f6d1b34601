"""The intake service's settings; shared ones come from ServiceSettings."""

from pydantic import Field

from onestop.servicekit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    intake_http_host: str = "127.0.0.1"
    intake_http_port: int = 8001
    # Open311 API keys: "key:client,key:client". Each outside reporting site gets its own key.
    intake_open311_api_keys: str = "dev-open311-key:local-demo"
    # How long a batch of contacts may wait for Kafka's commit before its callers get 503.
    intake_publish_timeout_seconds: float = Field(default=10.0, gt=0)
    # Group commit: contacts arriving together share one database and one Kafka transaction. A batch closes
    # when it holds this many contacts or its first has waited this long.
    intake_group_commit_max_wait_ms: float = Field(default=3.0, ge=0)
    intake_group_commit_max_contacts: int = Field(default=200, gt=0)
    intake_max_attachment_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    intake_public_base_url: str = "http://127.0.0.1:8001"

    def open311_clients(self) -> dict[str, str]:
        pairs = (item.split(":", 1) for item in self.intake_open311_api_keys.split(",") if ":" in item)
        return {key.strip(): client.strip() for key, client in pairs}
