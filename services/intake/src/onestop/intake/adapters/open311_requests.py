"""Open311 service requests in PostgreSQL: recorded with their contact, kept in step with their case.

Each progress update sets values, so a redelivered event changes nothing; events of one case arrive in
order (they share a key), and `updated_at` only moves forward.
"""

from datetime import datetime
from uuid import UUID

from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.identifiers import case_id_for
from onestop.intake.domain.service_request import ServiceRequest
from onestop.servicekit.database import Connection


class Open311Requests:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def add(self, request: ServiceRequest, contact: ContactReceived) -> None:
        """The request behind the contact's one need; its token is the contact id."""
        [need] = contact.needs
        await self.connection.execute(
            """INSERT INTO open311_requests (token, contact_id, need_id, case_id, client, service_code,
                   service_name, description, address, lat, long, media_url, requested_at, updated_at, data_subject)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)""",
            contact.contact_id,
            contact.contact_id,
            need.need_id,
            case_id_for(contact.contact_id, need.need_id),
            request.client,
            request.service_code,
            request.service_name,
            need.description,
            request.address,
            request.lat,
            request.long,
            request.media_url,
            contact.received_at,
            contact.personal_subject(),
        )

    async def case_raised(self, case_id: UUID, at: datetime, reference: str) -> None:
        await self._set(case_id, at, "service_request_id = $3", reference)

    async def handed_off(self, case_id: UUID, at: datetime, team: str, due: datetime) -> None:
        await self._set(case_id, at, "agency = $3, expected_at = $4", team, due)

    async def progress_noted(self, case_id: UUID, at: datetime, note: str | None, expected_by: datetime | None) -> None:
        await self._set(case_id, at, "status_notes = $3, expected_at = COALESCE($4, expected_at)", note, expected_by)

    async def outcome_noted(self, case_id: UUID, at: datetime, note: str | None) -> None:
        await self._set(case_id, at, "status_notes = $3", note)

    async def closed(self, case_id: UUID, at: datetime) -> None:
        await self._set(case_id, at, "status = 'closed'")

    async def reopened(self, case_id: UUID, at: datetime) -> None:
        await self._set(case_id, at, "status = 'open'")

    async def erase(self, data_subject: UUID) -> None:
        """What the requester wrote, where, and what they were told goes; the request and its status stay."""
        await self.connection.execute(
            """UPDATE open311_requests SET description = NULL, address = NULL, media_url = NULL, status_notes = NULL
               WHERE data_subject = $1""",
            data_subject,
        )

    async def _set(self, case_id: UUID, at: datetime, assignments: str, *values: object) -> None:
        await self.connection.execute(
            f"UPDATE open311_requests SET {assignments}, updated_at = GREATEST(updated_at, $2) WHERE case_id = $1",
            case_id,
            at,
            *values,
        )
