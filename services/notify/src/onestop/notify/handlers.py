"""What each consumed event means for notify: what it learns, and which notifications it queues.

One small handler per event type; the runtime gives each a unit of work (inbox, transaction, outbox).
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseHandedOff,
    CaseOutcome,
    CaseProgressUpdated,
    CaseRaised,
    CaseReopened,
    CaseResolved,
    ComplaintStage,
    EscalationReason,
    ReporterLinked,
)
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased
from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.addressing import Addressing, Unit
from onestop.notify.domain.model import FollowedCase, Reporter
from onestop.notify.domain.templates import day
from onestop.notify.settings import NotifySettings
from onestop.notify.surveys import Surveys
from onestop.servicekit.event_consumer import Handler

# --- what notify learns: its views of cases, contacts and reporters ----------------------------------
# Kept apart from what it sends, so that a rebuild replays these and never sends anything again.


async def learn_contact(event: ContactReceived, uow: Unit) -> None:
    """Remembered for later: how many needs it had, and the councillor who raised it, if one did."""
    await uow.repos.cases.record_contact(event.contact_id, len(event.needs), event.on_behalf_of_councillor)


async def learn_case_raised(event: CaseRaised, uow: Unit) -> None:
    await uow.repos.cases.record_case(followed_case(event))


def followed_case(event: CaseRaised) -> FollowedCase:
    customer = event.customer
    return FollowedCase(
        case_id=event.case_id,
        contact_id=event.contact_id,
        reference=event.reference,
        service_code=event.service_code,
        service_area=event.service_area,
        customer_id=customer.customer_id if customer else None,
        customer=customer.model_dump(mode="json") if customer else None,
        ward=event.location.ward if event.location else None,
        data_subject=event.personal_subject(),
    )


async def learn_case_handed_off(event: CaseHandedOff, uow: Unit) -> None:
    await uow.repos.cases.set_sla_due(event.case_id, event.sla_due_at)


async def learn_case_resolved(event: CaseResolved, uow: Unit) -> None:
    await uow.repos.cases.set_outcome(event.case_id, event.outcome)


async def learn_case_declined(event: CaseDeclined, uow: Unit) -> None:
    await uow.repos.cases.decline(event.case_id, event.reason)


async def learn_case_closed(event: CaseClosed, uow: Unit) -> None:
    await uow.repos.cases.close(event.case_id, event.closed_at)


async def learn_case_reopened(event: CaseReopened, uow: Unit) -> None:
    await uow.repos.cases.reopen(event.case_id)


async def learn_reporter_linked(event: ReporterLinked, uow: Unit) -> None:
    customer = event.customer
    reporter = Reporter(
        case_id=event.case_id,
        contact_id=event.contact_id,
        customer_id=customer.customer_id if customer else None,
        customer=customer.model_dump(mode="json") if customer else None,
    )
    await uow.repos.cases.add_reporter(reporter)


async def forget_customer_in_views(event: CustomerErased, uow: Unit) -> None:
    await uow.repos.cases.forget_customer(event.customer_id)


VIEW_TABLES = ["cases", "contacts", "reporters"]
VIEW_HANDLERS: dict[type[Event], Handler[NotifyRepositories]] = {
    ContactReceived: learn_contact,
    CaseRaised: learn_case_raised,
    CaseHandedOff: learn_case_handed_off,
    CaseResolved: learn_case_resolved,
    CaseDeclined: learn_case_declined,
    CaseClosed: learn_case_closed,
    CaseReopened: learn_case_reopened,
    ReporterLinked: learn_reporter_linked,
    CustomerErased: forget_customer_in_views,
}

# Escalations staff are told of, with the headline of the alert.
STAFF_ALERTS = {
    EscalationReason.AGED_30_DAYS: "A case has been open 30 days",
    EscalationReason.AGED_60_DAYS: "A case has been open 60 days, beyond the corporate standard",
    EscalationReason.CHASED: "The customer has chased this case",
    EscalationReason.SLA_BREACHED: "A case has missed its service standard",
}

# How a complaint's stage and its owner are named in the letter to the complainant.
COMPLAINT_STAGES = {
    ComplaintStage.INFORMAL: "informal stage",
    ComplaintStage.STAGE_1: "formal stage 1",
    ComplaintStage.STAGE_2: "formal stage 2",
}
COMPLAINT_OWNERS = {
    "team_leader": "a team leader",
    "complaint_owner": "a complaint owner, at least an operational manager",
    "director": "a director",
    "corporate_complaints_manager": "the corporate complaints manager",
}


class NotifyHandlers:
    def __init__(
        self, settings: NotifySettings, addressing: Addressing, surveys: Surveys, clock: Callable[[], datetime]
    ) -> None:
        self.settings, self.addressing, self.surveys, self.clock = settings, addressing, surveys, clock

    def by_event_type(self) -> dict[type[Event], Handler[NotifyRepositories]]:
        return {
            ContactReceived: self.on_contact_received,
            CaseRaised: self.on_case_raised,
            CaseHandedOff: self.on_case_handed_off,
            CaseProgressUpdated: self.on_progress_updated,
            CaseResolved: self.on_case_resolved,
            CaseDeclined: self.on_case_declined,
            CaseClosed: self.on_case_closed,
            CaseReopened: self.on_case_reopened,
            ReporterLinked: self.on_reporter_linked,
            CaseEscalated: self.on_case_escalated,
            CustomerErased: self.on_customer_erased,
        }

    async def on_contact_received(self, event: ContactReceived, uow: Unit) -> None:
        await learn_contact(event, uow)

    async def on_case_raised(self, event: CaseRaised, uow: Unit) -> None:
        case = await uow.repos.cases.record_case(followed_case(event))  # a raise again keeps the first
        # One acknowledgement per contact, a moment later, listing every case it raised by then.
        due = self.clock() + timedelta(seconds=self.settings.notify_acknowledgement_grouping_seconds)
        await self.addressing.to_customer(uow, case, "acknowledgement", {}, key_trigger=event.contact_id, due=due)
        await self.addressing.to_ward(uow, case, "was reported", "")

    async def on_case_handed_off(self, event: CaseHandedOff, uow: Unit) -> None:
        await learn_case_handed_off(event, uow)

    async def on_progress_updated(self, event: CaseProgressUpdated, uow: Unit) -> None:
        if not event.public:
            return  # an internal note is never shown to anyone outside
        case = await uow.repos.cases.get(event.case_id)
        if case is not None:
            context = {"note": event.note, "expected": day(event.expected_by)}
            await self.addressing.to_followers(uow, case, "progress", context)

    async def on_case_resolved(self, event: CaseResolved, uow: Unit) -> None:
        await learn_case_resolved(event, uow)

    async def on_case_declined(self, event: CaseDeclined, uow: Unit) -> None:
        await learn_case_declined(event, uow)

    async def on_case_closed(self, event: CaseClosed, uow: Unit) -> None:
        """Followers hear the outcome (or why it was declined); a sample is asked how we did."""
        await learn_case_closed(event, uow)
        case = await uow.repos.cases.get(event.case_id)
        if case is None or event.outcome is CaseOutcome.WITHDRAWN:
            return
        if case.declined:
            await self.addressing.to_followers(uow, case, "declined", {"reason": case.outcome})
        else:
            context = {"outcome": case.outcome or "The work is done."}
            await self.addressing.to_followers(uow, case, "completed", context)
            await self.surveys.on_close(uow, case, event.closed_at)
        await self.addressing.to_ward(uow, case, "was closed", case.outcome or "")

    async def on_case_reopened(self, event: CaseReopened, uow: Unit) -> None:
        """Everyone who was told it was done hears that it is being dealt with again (not why: the reason
        may be one customer's words, and reporters are told too)."""
        await learn_case_reopened(event, uow)
        case = await uow.repos.cases.get(event.case_id)
        if case is not None:
            await self.addressing.to_followers(uow, case, "reopened", {})

    async def on_reporter_linked(self, event: ReporterLinked, uow: Unit) -> None:
        """The new reporter is told it is already in hand, and follows the case from now on."""
        await learn_reporter_linked(event, uow)
        case = await uow.repos.cases.get(event.case_id)
        if case is not None:
            await self.addressing.to_reporter(uow, case, event.contact_id, "already_in_hand", {})

    async def on_case_escalated(self, event: CaseEscalated, uow: Unit) -> None:
        if event.reason is EscalationReason.COMPLAINT_STAGE:
            await self.on_complaint_stage(event, uow)
            return
        headline = STAFF_ALERTS.get(event.reason)
        case = await uow.repos.cases.get(event.case_id)
        if headline is None or case is None:
            return
        context = {
            "headline": headline,
            "reason": event.reason.value.replace("_", " "),
            "days_open": event.days_open,
            "due": day(case.sla_due_at),
        }
        await self.addressing.to_staff(uow, case, event.escalated_to, event.service_area, context)

    async def on_complaint_stage(self, event: CaseEscalated, uow: Unit) -> None:
        """The complainant gets a letter at each stage with its owner and deadline; the owner is told."""
        case = await uow.repos.cases.get(event.case_id)
        if case is None or event.complaint_stage is None:
            return
        owner = event.owner_role or ""
        context = {
            "stage": COMPLAINT_STAGES[event.complaint_stage],
            "owner": COMPLAINT_OWNERS.get(owner, owner.replace("_", " ")),
            "deadline": day(event.due_at),
            "last_stage": event.complaint_stage is ComplaintStage.STAGE_2,
        }
        await self.addressing.to_followers(uow, case, "complaint_stage", context)
        alert = {
            "headline": f"A complaint is at {context['stage']} and yours to answer",
            "reason": "complaint stage",
            "days_open": event.days_open,
            "due": day(event.due_at),
        }
        await self.addressing.to_staff(uow, case, event.escalated_to, event.service_area, alert)

    async def on_customer_erased(self, event: CustomerErased, uow: Unit) -> None:
        """Contact details go from every table; what statistics need (counts, dates) stays."""
        await forget_customer_in_views(event, uow)
        await uow.repos.audience.forget_customer(event.customer_id)
        await uow.repos.notifications.forget_customer(event.customer_id)
