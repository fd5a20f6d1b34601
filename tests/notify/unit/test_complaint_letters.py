"""A complaint's stages: the complainant gets a letter with the owner and the deadline; the owner is told."""

from datetime import UTC, datetime
from uuid import UUID

from onestop.contracts.events.cases import CaseEscalated, ComplaintStage, EscalationReason
from onestop.notify.domain.templates import Templates
from tests.notify.unit.test_handlers import NOW, Notify, raised, requested, resident

DEADLINE = datetime(2026, 3, 16, 17, 0, tzinfo=UTC)


def stage(case_id: UUID, complaint_stage: ComplaintStage, owner: str) -> CaseEscalated:
    return CaseEscalated(
        case_id=case_id,
        escalated_at=NOW,
        reason=EscalationReason.COMPLAINT_STAGE,
        escalated_to=(owner,),
        service_area="street_cleaning",
        days_open=0,
        complaint_stage=complaint_stage,
        owner_role=owner,
        due_at=DEADLINE,
    )


async def test_each_stage_sends_the_complainant_a_letter_with_owner_and_deadline() -> None:
    notify = Notify(notify_staff_email_domain="council.example")
    case = raised(resident())
    await notify.handle(case)

    emitted = await notify.handle(stage(case.case_id, ComplaintStage.STAGE_1, "complaint_owner"))

    [letter] = requested(emitted, "complaint_stage")
    assert letter.recipient.address == "jo@example.org"
    [alert] = requested(emitted, "staff_alert")
    assert alert.recipient.address == "complaint.owner.street-cleaning@council.example"
    [queued] = [n for n in notify.repos.notifications.all if n.template == "complaint_stage"]
    rendered = Templates(strict=True).render("complaint_stage", queued.context)
    assert "formal stage 1" in rendered.subject
    assert "a complaint owner, at least an operational manager" in rendered.body
    assert "Monday 16 March 2026" in rendered.body
    assert "ombudsman" not in rendered.body


async def test_the_last_stage_letter_tells_the_complainant_of_the_ombudsman() -> None:
    notify = Notify()
    case = raised(resident())
    await notify.handle(case)
    await notify.handle(stage(case.case_id, ComplaintStage.STAGE_2, "director"))
    [queued] = [n for n in notify.repos.notifications.all if n.template == "complaint_stage"]
    rendered = Templates(strict=True).render("complaint_stage", queued.context)
    assert "a director" in rendered.body and "ombudsman" in rendered.body
