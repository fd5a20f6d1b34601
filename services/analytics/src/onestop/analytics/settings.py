"""The analytics service's settings; shared ones come from ServiceSettings."""

from pydantic import BaseModel, Field

from onestop.servicekit.settings import ServiceSettings


class Targets(BaseModel):
    """The standards the dashboard shows each figure against (percentages and seconds)."""

    abandonment_max_percent: float = 5.0
    answered_in_20s_min_percent: float = 80.0
    first_contact_resolution_min_percent: float = 75.0
    avoidable_contact_max_percent: float = 20.0
    satisfaction_min_percent: float = 75.0
    face_to_face_wait_max_seconds: float = 600.0
    sla_compliance_min_percent: float = 90.0


class AnalyticsSettings(ServiceSettings):
    service_name: str = "analytics"
    analytics_http_host: str = "127.0.0.1"
    analytics_http_port: int = 8005
    analytics_batch_size: int = Field(default=1000, ge=1)
    analytics_targets: Targets = Targets()
