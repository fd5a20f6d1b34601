"""Read models kept in step with the event store, in the same transaction as each append.

Every write goes through the unit of work's `WriteBuffer`, keyed by the case (or the customer) it changes,
so a batch's writes reach PostgreSQL as one round trip per statement when it commits."""

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
from onestop.servicekit.write_buffer import WriteBuffer

READ_MODEL_TABLES = ("case_summary", "customer_contacts", "customer_merges", "linked_reports", "search_terms")


def project(writes: WriteBuffer, envelopes: Sequence[EventEnvelope], index: BlindIndex) -> None:
    """Project events, opened: what a read model shows or indexes of a person is what their key still opens."""
    for envelope in envelopes:
        _project_one(writes, envelope, index)


def _project_one(writes: WriteBuffer, envelope: EventEnvelope, index: BlindIndex) -> None:
    event = envelope.data
    case_id = getattr(event, "case_id", None)
    update = "UPDATE case_summary SET version = version + 1, updated_at = $2"
    match event:
        case CaseRaised():
            writes.add(
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
                key=case_id,
            )
            search_index.add_case(writes, index, event)
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
            writes.add(
                """INSERT INTO linked_reports (reference, case_id, contact_id) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING""",
                case_reference_for(case_id_for(event.contact_id, event.need_id)),
                event.case_id,
                event.contact_id,
                key=case_id,
            )
            sql = f"{update}, reporters = reporters + 1"
            args = ()
        case CaseChased():
            sql = f"{update}, chases = chases + 1"
            args = ()
        case _:
            sql = update
            args = ()
    writes.add(f"{sql} WHERE case_id = $1", case_id, envelope.time, *args, key=case_id)


def record_contact(writes: WriteBuffer, contact: ContactReceived) -> None:
    """The single customer view keeps every contact of an identified customer."""
    if contact.customer is None or contact.customer.customer_id is None:
        return
    writes.add(
        """INSERT INTO customer_contacts (customer_id, contact_id, channel, received_at, needs)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        contact.customer.customer_id,
        contact.contact_id,
        contact.channel.value,
        contact.received_at,
        len(contact.needs),
        key=contact.customer.customer_id,
    )


def record_merge(writes: WriteBuffer, surviving_id: object, merged_id: object) -> None:
    writes.add(
        "INSERT INTO customer_merges (merged_id, surviving_id) VALUES ($1, $2)"
        " ON CONFLICT (merged_id) DO UPDATE SET surviving_id = EXCLUDED.surviving_id",
        merged_id,
        surviving_id,
        key=None,
    )
    # Whoever pointed at the merged record now points at the survivor.
    writes.add(
        "UPDATE customer_merges SET surviving_id = $1 WHERE surviving_id = $2", surviving_id, merged_id, key=None
    )


def record_unmerge(writes: WriteBuffer, merged_id: object) -> None:
    """A wrong merge undone: the record's contacts and cases are its own again."""
    writes.add("DELETE FROM customer_merges WHERE merged_id = $1", merged_id, key=None)


def forget_customer(writes: WriteBuffer, customer_id: object) -> None:
    """Erasure: the customer's link to their contacts and cases goes, and what their cases showed of them
    (a note, an outcome: free text); the counts behind statistics stay."""
    # Barriers (no key): they change rows of many cases.
    writes.add("DELETE FROM customer_contacts WHERE customer_id = $1", customer_id, key=None)
    writes.add(
        "UPDATE case_summary SET customer_id = NULL, public_note = NULL WHERE customer_id = $1 OR data_subject = $1",
        customer_id,
        key=None,
    )
    writes.add("DELETE FROM customer_merges WHERE merged_id = $1 OR surviving_id = $1", customer_id, key=None)
    search_index.forget(writes, customer_id)
