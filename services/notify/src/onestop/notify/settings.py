"""The notify service's settings; shared ones come from ServiceSettings."""

from pydantic import Field, ValidationInfo, field_validator

from onestop.servicekit.settings import ServiceSettings, check_secret, database_url_of


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    database_url: str = database_url_of("notify")
    notify_http_host: str = "127.0.0.1"
    notify_http_port: int = 8004
    # Where the public reach notify's pages (the feedback survey) and the cases service's tracking page:
    # the links in every message start with these, so they must be the addresses the public can open.
    notify_public_base_url: str = "http://127.0.0.1:8004"
    notify_tracking_base_url: str = "http://127.0.0.1:8003"
    # Email over SMTP (make run starts a local mail catcher on 1025).
    notify_smtp_host: str = "127.0.0.1"
    notify_smtp_port: int = 1025
    notify_from_address: str = "Customer Services <customer.services@council.example>"
    # SMS and letters through a GOV.UK Notify-compatible API; empty base URL disables those channels.
    notify_govuk_base_url: str = ""
    notify_govuk_api_key: str = ""
    # Signs outgoing webhooks (HMAC), so a receiver can tell they came from us. Required: no default.
    notify_webhook_secret: str
    # Staff alerts go to <role>.<service area>@<domain>.
    notify_staff_email_domain: str = "council.example"
    # Notifications raised for one contact within this many seconds go out as one acknowledgement.
    notify_acknowledgement_grouping_seconds: float = Field(default=3.0, ge=0)
    # How long the broker may hold a fetch to gather events, so that a contact and the case it raises mostly
    # arrive together: one wake and one transaction for both, not one for each event of three topics.
    notify_gather_ms: int = Field(default=250, ge=0, le=30_000)
    # Share of closed cases asked for feedback, per service area ("*" for the rest).
    notify_feedback_sample_rates: dict[str, float] = Field(default_factory=lambda: {"*": 0.2})
    notify_repair_follow_up_days: int = Field(default=42, ge=1)
    notify_max_attempts: int = Field(default=6, ge=1)
    notify_sender_interval_seconds: float = Field(default=0.2, gt=0)
    # How many claimed notifications are handed to providers at once (each uses a database connection).
    notify_sends_in_flight: int = Field(default=8, ge=1, le=32)
    # A sender's claim on a notification lasts this long (renewed as each send starts); a row still
    # `sending` after it, its sender having died, is due again.
    notify_claim_lease_seconds: float = Field(default=60.0, gt=0)
    # Signs the links in feedback surveys (HMAC), so no one can answer for someone else. Required: no default.
    notify_survey_secret: str

    @field_validator("notify_webhook_secret", "notify_survey_secret")
    @classmethod
    def _secrets_are_safe(cls, value: str, info: ValidationInfo) -> str:
        return check_secret(str(info.field_name).upper(), value)
