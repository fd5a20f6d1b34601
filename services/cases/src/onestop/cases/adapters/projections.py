"""Read models kept in step with the event store, in the same transaction as each append."""

from collections.abc import Sequence

from onestop.cases.adapters import search_index
from onestop.cases.domain.search_terms import BlindIndex
from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import (
    CaseAccepted,
    CaseChased,
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseHandedOff,
    CaseProgressUpdated,
    CaseRaised,
    CaseReassigned,
    CaseReopened,
    CaseResolved,
    ComplaintDetailsRecorded,
    ComplaintReferredToOmbudsman,
    EscalationReason,
    ReporterLinked,
)
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.servicekit.database import Connection

READ_MODEL_TABLES = ("case_summary", "customer_contacts", "customer_merges", "linked_reports", "search_terms")


async def project(connection: Connection, envelopes: Sequence[EventEnvelope], index: BlindIndex) -> None:
    """Project events, opened: what a read model shows or indexes of a person is what their key still opens."""
    for envelope in envelopes:
        await _project_one(connection, envelope, index)


async def _project_one(connection: Connection, envelope: EventEnvelope, index: BlindIndex) -> None:
    event = envelope.data
    case_id = getattr(event, "case_id", None)
    update = "UPDATE case_summary SET version = version + 1, updated_at = $2"
    match event:
        case CaseRaised():
            await connection.execute(
                """INSERT INTO case_summary (case_id, reference, status, kind, channel, service_code, service_area,
                       priority, contact_id, need_id, customer_id, ward, raised_at, version, updated_at, data_subject)
                   VALUES ($1, $2, 'raised', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $12, $13)""",
                event.case_id,
                event.reference,
                event.kind.value,
                event.channel.value,
                event.service_code,
                event.service_area,
                event.priority.value,
                event.contact_id,
                event.need_id,
                event.customer.customer_id if event.customer else None,
                event.location.ward if event.location else None,
                event.raised_at,
                event.personal_subject(),
            )
            await search_index.add_case(connection, index, event)
            return
        case CaseHandedOff():
            sql = f"{update}, status = 'handed_off', team = $3, hand_off_model = $4, sla_due_at = $5, expected_by = $5"
            args: tuple[object, ...] = (event.team, event.hand_off_model.value, event.sla_due_at)
        case CaseAccepted():
            sql = f"{update}, status = 'accepted', expected_by = COALESCE($3, expected_by)"
            args = (event.expected_by,)
        case CaseProgressUpdated():
            sql = (
                f"{update}, status = 'in_progress', expected_by = COALESCE($3, expected_by),"
                " public_note = CASE WHEN $4 THEN $5 ELSE public_note END"
            )
            args = (event.expected_by, event.public, event.note)
        case CaseResolved():
            sql = f"{update}, status = 'resolved', public_note = $3"
            args = (event.outcome,)
        case CaseDeclined():
            sql = f"{update}, status = 'declined', public_note = $3"
            args = (event.reason,)
        case CaseClosed():
            sql = f"{update}, status = 'closed', closed_at = $3, outcome = $4"
            args = (event.closed_at, event.outcome.value)
        case CaseReopened():
            sql = f"{update}, status = 'handed_off', closed_at = NULL, outcome = NULL"
            args = ()
        case CaseReassigned():
            status = ", status = 'handed_off'" if event.rerouted else ""
            sql = f"{update}, team = $3, owner = $4{status}"
            args = (event.team, event.owner)
        case CaseEscalated():
            label = event.reason.value
            if event.reason is EscalationReason.COMPLAINT_STAGE and event.complaint_stage is not None:
                label = f"complaint:{event.complaint_stage.value}"
                sql = f"{update}, escalations = array_append(escalations, $3), complaint_stage = $4, complaint_due = $5"
                args = (label, event.complaint_stage.value, event.due_at)
            else:
                sql = f"{update}, escalations = array_append(escalations, $3)"
                args = (label,)
        case ComplaintDetailsRecorded():
            details = event.complaint
            sql = f"{update}, complaint_services = $3, complaint_about_contractor = $4, complaint_via_councillor = $5"
            args = (list(details.services_involved), bool(details.about_contractor), bool(details.via_councillor))
        case ComplaintReferredToOmbudsman():
            sql = f"{update}, ombudsman = $3, ombudsman_referred_at = $4, ombudsman_reference = $5"
            args = (event.ombudsman, event.referred_at, event.ombudsman_reference)
        case ReporterLinked():
            await connection.execute(
                """INSERT INTO linked_reports (reference, case_id, contact_id) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING""",
                case_reference_for(case_id_for(event.contact_id, event.need_id)),
                event.case_id,
                event.contact_id,
            )
            sql = f"{update}, reporters = reporters + 1"
            args = ()
        case CaseChased():
            sql = f"{update}, chases = chases + 1"
            args = ()
        case _:
            sql = update
            args = ()
    await connection.execute(f"{sql} WHERE case_id = $1", case_id, envelope.time, *args)


async def record_contact(connection: Connection, contact: ContactReceived) -> None:
    """The single customer view keeps every contact of an identified customer."""
    if contact.customer is None or contact.customer.customer_id is None:
        return
    await connection.execute(
        """INSERT INTO customer_contacts (customer_id, contact_id, channel, received_at, needs)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        contact.customer.customer_id,
        contact.contact_id,
        contact.channel.value,
        contact.received_at,
        len(contact.needs),
    )


async def record_merge(connection: Connection, surviving_id: object, merged_id: object) -> None:
    await connection.execute(
        "INSERT INTO customer_merges (merged_id, surviving_id) VALUES ($1, $2)"
        " ON CONFLICT (merged_id) DO UPDATE SET surviving_id = EXCLUDED.surviving_id",
        merged_id,
        surviving_id,
    )
    # Whoever pointed at the merged record now points at the survivor.
    await connection.execute(
        "UPDATE customer_merges SET surviving_id = $1 WHERE surviving_id = $2", surviving_id, merged_id
    )


async def record_unmerge(connection: Connection, merged_id: object) -> None:
    """A wrong merge undone: the record's contacts and cases are its own again."""
    await connection.execute("DELETE FROM customer_merges WHERE merged_id = $1", merged_id)


async def forget_customer(connection: Connection, customer_id: object) -> None:
    """Erasure: the customer's link to their contacts and cases goes, and what their cases showed of them
    (a note, an outcome: free text); the counts behind statistics stay."""
    await connection.execute("DELETE FROM customer_contacts WHERE customer_id = $1", customer_id)
    await connection.execute(
        "UPDATE case_summary SET customer_id = NULL, public_note = NULL WHERE customer_id = $1 OR data_subject = $1",
        customer_id,
    )
    await connection.execute("DELETE FROM customer_merges WHERE merged_id = $1 OR surviving_id = $1", customer_id)
    await search_index.forget(connection, customer_id)
