"""What line-of-business systems report about work handed to them (council tax, waste, highways...)."""

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import Sealed, UtcDatetime

ReportingAreas = Annotated[
    tuple[Annotated[str, Field(min_length=1, max_length=120)], ...],
    Field(description="The service areas the reporting system serves; a case of another area refuses the report"),
]

# A back office's free text can name the customer. A system that seals it names whose key it used: the
# case's `data_subject`, as its CaseHandedOff gave it; the cases service opens it before use.
DataSubject = Annotated[
    UUID | None,
    Field(description="Whose key seals the report's free text: the data_subject of the case's CaseHandedOff"),
]


class HandOffAccepted(Event):
    """A back-office system took on a handed-off case as one of its work items."""

    type: ClassVar[str] = "onestop.back-office.hand-off-accepted"
    topic: ClassVar[topics.Topic] = topics.BACK_OFFICE
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    system: str = Field(min_length=1, max_length=120)
    service_areas: ReportingAreas = ()
    work_item_id: str = Field(min_length=1, max_length=120)
    accepted_at: UtcDatetime
    expected_by: UtcDatetime | None = None


class HandOffRejected(Event):
    """A back-office system says the case is not theirs; it has to be routed again."""

    type: ClassVar[str] = "onestop.back-office.hand-off-rejected"
    topic: ClassVar[topics.Topic] = topics.BACK_OFFICE
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    system: str = Field(min_length=1, max_length=120)
    service_areas: ReportingAreas = ()
    rejected_at: UtcDatetime
    reason: str | None = Field(min_length=1, max_length=2000)
    suggested_team: str | None = Field(default=None, max_length=120)
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("reason",)


class ProgressReported(Event):
    """A back-office system reported progress on a work item."""

    type: ClassVar[str] = "onestop.back-office.progress-reported"
    topic: ClassVar[topics.Topic] = topics.BACK_OFFICE
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    system: str = Field(min_length=1, max_length=120)
    service_areas: ReportingAreas = ()
    work_item_id: str = Field(min_length=1, max_length=120)
    reported_at: UtcDatetime
    note: str | None = Field(min_length=1, max_length=2000)
    public: bool = Field(default=False, description="The customer is shown the note only when true")
    expected_by: UtcDatetime | None = None
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("note",)


class WorkCompleted(Event):
    """A back-office work item closed; the case it serves resolves and closes with it."""

    type: ClassVar[str] = "onestop.back-office.work-completed"
    topic: ClassVar[topics.Topic] = topics.BACK_OFFICE
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    system: str = Field(min_length=1, max_length=120)
    service_areas: ReportingAreas = ()
    work_item_id: str = Field(min_length=1, max_length=120)
    completed_at: UtcDatetime
    outcome: str | None = Field(min_length=1, max_length=2000)
    declined: bool = Field(default=False, description="The work was not done, e.g. not council land")
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("outcome",)
