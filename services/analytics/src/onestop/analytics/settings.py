"""The analytics service's settings; shared ones come from ServiceSettings."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from onestop.servicekit.settings import ServiceSettings, database_url_of

COUNCIL_TIMEZONE = "Europe/London"


class Targets(BaseModel):
    """The standards the dashboard shows each figure against (percentages and seconds)."""

    abandonment_max_percent: float = 5.0
    answered_in_20s_min_percent: float = 80.0
    first_contact_resolution_min_percent: float = 75.0
    avoidable_contact_max_percent: float = 20.0
    satisfaction_min_percent: float = 75.0
    face_to_face_wait_max_seconds: float = 600.0
    sla_compliance_min_percent: float = 90.0
    written_reply_max_days: float = 10.0  # a letter or email answered within this many days
    written_reply_min_percent: float = 90.0


class AnalyticsSettings(ServiceSettings):
    service_name: str = "analytics"
    database_url: str = database_url_of("analytics")
    analytics_http_host: str = "127.0.0.1"
    analytics_http_port: int = 8005
    analytics_batch_size: int = Field(default=1000, ge=1)
    # How long the broker may hold a fetch to gather events: how far behind the log the figures may be.
    analytics_gather_ms: int = Field(default=1000, ge=0, le=30_000)
    analytics_targets: Targets = Targets()
    # The council's clock: months and days are counted in it, not in UTC (a web form sent at 00:30 BST on
    # 1 August belongs to August). An IANA zone name.
    council_timezone: str = COUNCIL_TIMEZONE

    @field_validator("council_timezone")
    @classmethod
    def _a_known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"COUNCIL_TIMEZONE {name!r} is not a time zone name such as Europe/London") from exc
        return name

    @property
    def council_zone(self) -> ZoneInfo:
        return ZoneInfo(self.council_timezone)
