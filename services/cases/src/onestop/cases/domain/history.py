"""A case's events told in plain English for staff ("Handed to Waste Collections (Fire & Forget) on 3 Nov 2026
at 10:02"), in the council's own time. Who said what in a note is on the notes list, not here."""

from datetime import datetime
from zoneinfo import ZoneInfo

from onestop.contracts.events.base import Event
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
    NoteAdded,
    ReporterLinked,
)
from onestop.contracts.events.common import HandOffModel
from onestop.contracts.service_catalogue import service_catalogue

LONDON = ZoneInfo("Europe/London")
MODELS = {
    HandOffModel.ONE_AND_DONE: "One & Done",
    HandOffModel.FIRE_AND_FORGET: "Fire & Forget",
    HandOffModel.CUSTOMER_ADVOCATE: "Customer Advocate",
}
ESCALATIONS = {
    EscalationReason.AGED_30_DAYS: "Open 30 days: referred to the senior manager and portfolio holder",
    EscalationReason.AGED_60_DAYS: "Open 60 days: the corporate standard is breached",
    EscalationReason.SLA_BREACHED: "Past its due time: the service level is breached",
    EscalationReason.CHASED: "Chased while open: its advocate was alerted",
}


def when(moment: datetime) -> str:
    """`3 Nov 2026 at 10:02`, London time."""
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%b %Y} at {local:%H:%M}"


def team_name(team: str) -> str:
    """A team's id as people say it: `waste-collections` is Waste Collections."""
    return " ".join(word.capitalize() for word in team.replace("_", "-").split("-") if word)


def area_name(area_id: str) -> str:
    area = service_catalogue().area(area_id)
    return area.name if area else team_name(area_id)


CHANNEL_NAMES = {"ivr": "IVR", "open311": "Open311", "my_account": "My Account", "face_to_face": "face-to-face"}


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel.replace("_", " "))


def _a(words: str) -> str:
    return f"{'an' if words[:1].lower() in 'aeio' else 'a'} {words}"


def _stage(value: str) -> str:
    return value.replace("_", " ")


def describe(event: Event) -> str | None:
    """One line for an event of the case, or None for one that staff need not read."""
    match event:
        case CaseRaised():
            return f"Raised from {_a(channel_name(event.channel.value))} contact on {when(event.raised_at)}"
        case CaseHandedOff():
            model = MODELS[event.hand_off_model]
            due = when(event.sla_due_at)
            return f"Handed to {team_name(event.team)} ({model}) on {when(event.handed_off_at)}, due {due}"
        case CaseAccepted():
            return f"Accepted by {event.system} on {when(event.accepted_at)}"
        case CaseProgressUpdated():
            seen = "shown to the customer" if event.public else "internal"
            return f"Progress reported on {when(event.updated_at)} ({seen})"
        case NoteAdded():
            seen = "internal" if event.internal else "shown to the customer"
            return f"Note added by {event.author.name or event.author.id} on {when(event.added_at)} ({seen})"
        case CaseReassigned():
            to = team_name(event.team) + (f", owner {event.owner}" if event.owner else "")
            verb = "Re-routed" if event.rerouted else "Reassigned"
            return f"{verb} to {to} on {when(event.reassigned_at)}"
        case CaseResolved():
            how = " at the first point of contact" if event.at_first_contact else ""
            return f"Resolved{how} on {when(event.resolved_at)}"
        case CaseDeclined():
            return f"Declined on {when(event.declined_at)}"
        case CaseClosed():
            sla = {True: ", within its due time", False: ", after its due time", None: ""}[event.within_sla]
            return f"Closed ({event.outcome.value}{sla}) on {when(event.closed_at)}"
        case CaseReopened():
            return f"Reopened on {when(event.reopened_at)}"
        case CaseEscalated():
            if event.reason is EscalationReason.COMPLAINT_STAGE and event.complaint_stage is not None:
                due = f", due {when(event.due_at)}" if event.due_at else ""
                owner = f" with {_stage(event.owner_role)}" if event.owner_role else ""
                return f"Complaint at {_stage(event.complaint_stage.value)}{owner} on {when(event.escalated_at)}{due}"
            return f"{ESCALATIONS[event.reason]} on {when(event.escalated_at)}"
        case ComplaintDetailsRecorded():
            spans = ", ".join(area_name(area) for area in event.complaint.services_involved)
            return f"Complaint details recorded on {when(event.recorded_at)}: spans {spans or 'one service'}"
        case ComplaintReferredToOmbudsman():
            return f"Referred to the ombudsman ({event.ombudsman}) on {when(event.referred_at)}"
        case ReporterLinked():
            return f"Another report of the same problem linked on {when(event.linked_at)}"
        case CaseChased():
            return f"The customer chased by {channel_name(event.channel.value)} on {when(event.chased_at)}"
    return None
