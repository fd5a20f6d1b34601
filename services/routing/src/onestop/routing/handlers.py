"""What routing does with each event it consumes: route a contact's needs, and keep its model of known
cases (raised, closed, reopened; a re-route revises the contact's assessment). One function per event type;
the runtime gives each a unit of work, whose inbox, transaction and outbox it owns."""

from onestop.contracts.events.cases import CaseClosed, CaseRaised, CaseReassigned, CaseReopened
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed
from onestop.routing.adapters.repositories import RoutingRepositories
from onestop.routing.domain.known_case import KnownCase
from onestop.routing.need_routing import NeedRouter, Recognised
from onestop.routing.triage import send_to_triage
from onestop.servicekit.unit_of_work import UnitOfWork

Routing = UnitOfWork[RoutingRepositories]


async def on_contact_received(contact: ContactReceived, uow: Routing, *, router: NeedRouter) -> None:
    """Each need is routed, linked, counted as a chase, or sent to triage; each is assessed."""
    for need in contact.needs:
        service = await router.recognise(need, uow.repos.known_cases)
        if isinstance(service, Recognised):
            uow.emit(*await router.decide(contact, need, service, uow.repos.known_cases))
        else:
            uow.emit(await send_to_triage(contact, need, service, uow, router.clock))


async def on_case_raised(raised: CaseRaised, uow: Routing) -> None:
    """Cases raised elsewhere (or before routing kept its model) can be chased and duplicated too."""
    await uow.repos.known_cases.remember(KnownCase.raised(raised))


async def on_case_closed(closed: CaseClosed, uow: Routing) -> None:
    await uow.repos.known_cases.close(closed.case_id, closed.closed_at, closed.outcome)


async def on_case_reopened(reopened: CaseReopened, uow: Routing) -> None:
    await uow.repos.known_cases.reopen(reopened.case_id)


async def on_case_reassigned(reassigned: CaseReassigned, uow: Routing) -> None:
    """A re-route means the contact was passed to the wrong place: its assessment is revised (the latest
    assessment of a need is the one that counts). A move within the right service changes nothing here."""
    if not reassigned.rerouted:
        return
    case = await uow.repos.known_cases.get(reassigned.case_id)
    if case is None:
        return
    uow.emit(
        ContactAssessed(
            contact_id=case.contact_id,
            need_id=case.need_id,
            assessed_at=reassigned.reassigned_at,
            channel=case.channel,
            service_area=case.service_area,
            service_code=case.service_code,
            avoidable=True,
            category=AvoidableCategory.WRONGLY_ROUTED,
            related_case_id=case.case_id,
            explanation=f"re-routed to {reassigned.team}"[:500],  # the reason is free text: it stays sealed
        )
    )


async def on_customer_erased(erasure: CustomerErased, uow: Routing) -> None:
    """Nothing of an erased customer stays readable here: their cases lose the customer and the property,
    and a contact of theirs waiting in triage keeps only what is not personal."""
    await uow.repos.known_cases.erase(erasure.customer_id)
    await uow.repos.triage_queue.erase(erasure.customer_id)
