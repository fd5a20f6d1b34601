"""Open311 service requests in PostgreSQL: recorded with their contact, kept in step with their case.

Each progress update sets values, so a redelivered event changes nothing; events of one case arrive in
order (they share a key), and `updated_at` only moves forward.
"""

from datetime import datetime
from uuid import UUID

from onestop.contracts.events.cases import CaseRaised
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.identifiers import case_id_for
from onestop.intake.domain.service_request import ServiceRequest
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


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


class Open311Progress:
    """What the case-progress consumer writes: each request kept in step with its case. The writes are held
    in the batch's `WriteBuffer`, keyed by the case whose progress they follow, and written when it commits."""

    def __init__(self, writes: WriteBuffer) -> None:
        self.writes = writes

    def case_raised(self, case_id: UUID, at: datetime, reference: str) -> None:
        """The request the case was raised for gets its reference (not the requests linked to it later)."""
        self.writes.add(
            """UPDATE open311_requests SET service_request_id = $3, updated_at = GREATEST(updated_at, $2)
               WHERE case_id = $1""",
            case_id,
            at,
            reference,
            key=case_id,
        )

    def linked(self, case_id: UUID, at: datetime, need_id: UUID, reference: str) -> None:
        """A duplicate report: its request keeps its own id (what the reporter was given, which tracks the
        case) and follows the progress of the case it was linked to from now on."""
        self.writes.add(
            """UPDATE open311_requests SET linked_case_id = $2, service_request_id = $4,
                   updated_at = GREATEST(updated_at, $3)
               WHERE need_id = $1""",
            need_id,
            case_id,
            at,
            reference,
            key=case_id,  # the request follows that case from now on
        )

    def add_from_another_channel(self, case: CaseRaised, service_name: str) -> None:
        """A case of an Open311-listed service raised through another channel: listed as a request too, by
        its case id. What the customer said and where they live were told to the council, not published,
        so only the service, the spot and the public status show."""
        location = case.location
        self.writes.add(
            """INSERT INTO open311_requests (token, contact_id, need_id, case_id, client, service_code,
                   service_name, lat, long, requested_at, updated_at, service_request_id, data_subject)
               VALUES ($1, $2, $3, $1, $4, $5, $6, $7, $8, $9, $9, $10, $11)
               ON CONFLICT (case_id) DO NOTHING""",
            case.case_id,
            case.contact_id,
            case.need_id,
            case.channel.value,
            case.service_code,
            service_name,
            location.latitude if location else None,
            location.longitude if location else None,
            case.raised_at,
            case.reference,
            case.personal_subject(),
            key=case.case_id,
        )

    def handed_off(self, case_id: UUID, at: datetime, team: str, due: datetime) -> None:
        self._set(case_id, at, "agency = $3, expected_at = $4", team, due)

    def progress_noted(self, case_id: UUID, at: datetime, note: str | None, expected_by: datetime | None) -> None:
        self._set(case_id, at, "status_notes = $3, expected_at = COALESCE($4, expected_at)", note, expected_by)

    def outcome_noted(self, case_id: UUID, at: datetime, note: str | None) -> None:
        self._set(case_id, at, "status_notes = $3", note)

    def closed(self, case_id: UUID, at: datetime) -> None:
        self._set(case_id, at, "status = 'closed'")

    def reopened(self, case_id: UUID, at: datetime) -> None:
        self._set(case_id, at, "status = 'open'")

    def erase(self, data_subject: UUID) -> None:
        """What the requester wrote, where, and what they were told goes; the request and its status stay."""
        self.writes.add(
            """UPDATE open311_requests SET description = NULL, address = NULL, media_url = NULL, status_notes = NULL
               WHERE data_subject = $1""",
            data_subject,
            key=None,  # requests of many cases
        )

    def _set(self, case_id: UUID, at: datetime, assignments: str, *values: object) -> None:
        self.writes.add(
            f"UPDATE open311_requests SET {assignments}, updated_at = GREATEST(updated_at, $2)"
            " WHERE case_id = $1 OR linked_case_id = $1",
            case_id,
            at,
            *values,
            key=case_id,
        )
