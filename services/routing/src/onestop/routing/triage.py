"""Triage: a need no machine could place waits in a queue until a person chooses its service, and is then
routed as if it had come with it."""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from onestop.contracts import EventEnvelope
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import NeedSentToTriage
from onestop.routing.adapters.repositories import RoutingRepositories
from onestop.routing.need_routing import NeedRouter, Unrecognised
from onestop.servicekit.unit_of_work import UnitOfWork, UnitsOfWork


class NotInTriage(Exception):
    pass


class UnknownService(ValueError):
    pass


async def send_to_triage(
    contact: ContactReceived,
    need: Need,
    guess: Unrecognised,
    uow: UnitOfWork[RoutingRepositories],
    clock: Callable[[], datetime],
) -> NeedSentToTriage:
    """Queue the need with the contact being handled (`uow.cause`); the event says it is waiting."""
    assert uow.cause is not None, "a need is sent to triage while its contact is handled"
    now = clock()
    await uow.repos.triage_queue.add(
        contact.contact_id,
        need.need_id,
        contact=uow.cause,
        reason=guess.reason,
        best_guess=guess.best_guess,
        confidence=guess.confidence,
        queued_at=now,
    )
    return NeedSentToTriage(
        contact_id=contact.contact_id,
        need_id=need.need_id,
        sent_at=now,
        reason=guess.reason,
        best_guess_service_code=guess.best_guess,
        confidence=guess.confidence,
    )


class Triage:
    """The API command: a person chose the service for a need waiting in triage."""

    def __init__(self, units: UnitsOfWork[RoutingRepositories], router: NeedRouter) -> None:
        self.units = units
        self.router = router

    async def choose_service(self, contact_id: UUID, need_id: UUID, service_code: str) -> list[EventEnvelope]:
        """Take the need out of the queue and route it to `service_code`; the events it caused."""
        if self.router.catalogue.service(service_code) is None:
            raise UnknownService(f"unknown service code {service_code!r}")
        async with self.units.begin() as uow:
            queued = await uow.repos.triage_queue.take(contact_id, need_id)
            if queued is None:
                raise NotInTriage(f"need {need_id} of contact {contact_id} is not waiting in triage")
            contact = queued.data
            assert isinstance(contact, ContactReceived)
            need = next(n for n in contact.needs if n.need_id == need_id)
            # The cause is known only once the queue gives the contact back: the decision follows its journey.
            uow.cause = queued
            chosen = self.router.chosen_by_a_person(need, service_code)
            events = await self.router.decide(contact, need, chosen, uow.repos.known_cases)
            return uow.emit(*events)
