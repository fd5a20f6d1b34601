"""The case file staff work from: the case in full, built from its opened events and its summary row.

Everything personal comes from the events as the customer's key opens them, so an erased customer's name,
contact details, words, place and attachments are simply empty here.
"""

from datetime import datetime
from typing import Any

from onestop.cases.adapters.views import FINISHED_STATUSES
from onestop.cases.domain.history import MODELS, area_name, describe, team_name
from onestop.cases.domain.search_terms import postcodes_in
from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import CaseProgressUpdated, CaseRaised, NoteAdded
from onestop.contracts.events.common import Attachment, CustomerDetails, HandOffModel, Location

Row = dict[str, Any]
ATTACHMENT_ID_IN_URL = "/attachments/"


def case_file(summary: Row, history: list[EventEnvelope], now: datetime) -> Row:
    raised = next((envelope.data for envelope in history if isinstance(envelope.data, CaseRaised)), None)
    return {
        "case": summary,
        "description": raised.description if raised else "",
        "location": location_of(raised.location if raised else None),
        "customer": customer_of(summary, raised.customer if raised else None),
        "attachments": [attachment_of(a) for a in raised.attachments] if raised else [],
        "notes": notes_of(history),
        "hand_off": {
            "service_area": summary["service_area"],
            "service_area_name": area_name(summary["service_area"]),
            "team": summary["team"],
            "team_name": team_name(summary["team"]) if summary["team"] else None,
            "model": summary["hand_off_model"],
            "model_name": MODELS[HandOffModel(summary["hand_off_model"])] if summary["hand_off_model"] else None,
            "owner": summary["owner"],
        },
        "sla": sla_of(summary, now),
        "history": [
            {"at": envelope.time, "type": envelope.type, "event_id": envelope.id, "text": line}
            for envelope in history
            if (line := describe(envelope.data)) is not None
        ],
        "events": [
            {
                "event_id": envelope.id,
                "type": envelope.type,
                "time": envelope.time,
                "data": envelope.data.model_dump(mode="json", exclude={"sealed"}),
            }
            for envelope in history
        ],
    }


def location_of(location: Location | None) -> Row | None:
    if location is None:
        return None
    postcodes = postcodes_in(location.address)
    return {
        "address": location.address,
        "postcode": _spaced(postcodes[0]) if postcodes else None,
        "latitude": location.latitude,
        "longitude": location.longitude,
        "uprn": location.uprn,
        "usrn": location.usrn,
        "ward": location.ward,
    }


def customer_of(summary: Row, customer: CustomerDetails | None) -> Row | None:
    if customer is None:
        return None
    postcodes = postcodes_in(customer.address)
    return {
        "customer_id": summary["customer_id"],
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "address": customer.address,
        "postcode": _spaced(postcodes[0]) if postcodes else None,
        "preferred_contact_method": customer.preferred_contact_method.value,
        "language": customer.language,
        "vulnerable": customer.vulnerable,
    }


def attachment_of(attachment: Attachment) -> Row:
    url = attachment.url or None
    attachment_id = url.rsplit(ATTACHMENT_ID_IN_URL, 1)[1] if url and ATTACHMENT_ID_IN_URL in url else None
    return {
        "id": attachment_id,
        "filename": attachment.filename,
        "media_type": attachment.media_type,
        "size_bytes": attachment.size_bytes,
        "url": url,
    }


def notes_of(history: list[EventEnvelope]) -> list[Row]:
    """Staff notes and the back office's progress notes, oldest first; text empty once the customer is erased."""
    notes = []
    for envelope in history:
        event = envelope.data
        if isinstance(event, NoteAdded):
            author = event.author
            notes.append(
                {
                    "note_id": event.note_id,
                    "at": event.added_at,
                    "author": {"kind": author.kind, "id": author.id, "name": author.name, "team": author.team},
                    "text": event.text,
                    "public": not event.internal,
                    "source": "staff",
                }
            )
        elif isinstance(event, CaseProgressUpdated) and event.note is not None:
            notes.append(
                {
                    "note_id": envelope.id,
                    "at": event.updated_at,
                    "author": {"kind": "system", "id": "back-office", "name": None, "team": None},
                    "text": event.note,
                    "public": event.public,
                    "source": "back_office",
                }
            )
    return notes


def sla_of(summary: Row, now: datetime) -> Row:
    due = summary["sla_due_at"]
    still_open = summary["status"] not in FINISHED_STATUSES
    breached = "sla_breached" in summary["escalations"] or bool(due and still_open and now > due)
    return {"due_at": due, "expected_by": summary["expected_by"], "breached": breached}


def _spaced(postcode: str) -> str:
    return f"{postcode[:-3]} {postcode[-3:]}".upper()
