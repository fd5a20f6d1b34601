"""A month of traffic for the running services, sent through their public ways in, and the figures that
traffic must produce, computed here from the test's own record of what it sent (never by the services'
code): what each need is by the definitions in MEASURES.md and routing's NI14.md, each case's times, each
call and ticket.

The month is October 2026 on the council's clock: midnight BST on 1 October (23:00 UTC on 30 September) to
midnight GMT on 1 November, the clocks going back at 02:00 BST on 25 October. Contacts fall either side of
both ends and in the hour that happens twice; some came in weeks before the month.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from onestop.contracts.events.back_office import HandOffRejected, WorkCompleted
from onestop.contracts.identifiers import case_id_for

LONDON = ZoneInfo("Europe/London")
SELF_SERVICE = {"web", "my_account", "app", "kiosk", "ivr", "open311"}
# The service area of each service the traffic uses, as the published catalogue has it.
AREAS = {
    "524": "waste",
    "526": "waste",
    "L-BINDAYS": "waste",
    "58": "council_tax",
    "487": "planning",
    "141": "housing",
    "564": "highways",
    "557": "highways",
    "587": "street_cleaning",
    "584": "street_cleaning",
    "353": "corporate",
    "474": "parking",
}
AGE_BANDS = (("0-10 days", 0, 10), ("11-30 days", 11, 30), ("31-60 days", 31, 60), ("over 60 days", 61, None))


def london(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


def council_month(month: int) -> tuple[datetime, datetime]:
    following = (2027, 1) if month == 12 else (2026, month + 1)
    return datetime(2026, month, 1, tzinfo=LONDON), datetime(*following, 1, tzinfo=LONDON)


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class SentCase:
    """A case the traffic raises, with what the back office later reports about it."""

    area: str
    raised_at: datetime
    first_contact: bool = False
    closed_at: datetime | None = None
    within: bool | None = None  # None: it had no due time (resolved at first contact)
    complaint: str | None = None  # for a complaint: "on_time", "late" or "open"
    case_id: str = ""
    reference: str = ""


@dataclass
class SentNeed:
    code: str | None  # the service it is settled on; None while it waits in triage
    category: str | None = None  # its NI14 verdict; None when not avoidable
    case: SentCase | None = None

    @property
    def assessed(self) -> bool:
        return self.code is not None


@dataclass
class SentContact:
    channel: str
    received_at: datetime
    needs: list[SentNeed]


@dataclass
class SentCall:
    offered_at: datetime
    wait_seconds: float
    answered: bool


@dataclass
class SentTicket:
    served_at: datetime
    wait_seconds: float
    booked: bool


@dataclass
class Record:
    contacts: list[SentContact] = field(default_factory=list)
    calls: list[SentCall] = field(default_factory=list)
    tickets: list[SentTicket] = field(default_factory=list)

    def cases(self) -> list[SentCase]:
        return [need.case for contact in self.contacts for need in contact.needs if need.case]

    def figures(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Every measure for [start, end), as MEASURES.md defines it."""
        contacts = [c for c in self.contacts if start <= c.received_at < end]
        needs = [(c, n) for c in contacts for n in c.needs]
        assessed = [(c, n) for c, n in needs if n.assessed]
        cases = self.cases()
        raised = [case for case in cases if start <= case.raised_at < end]
        closed = [
            case for case in cases if case.closed_at and start <= case.closed_at < end and case.within is not None
        ]
        aged_at = min(end, datetime.now(UTC))  # a month still running is aged today
        still_open = [
            case for case in cases if case.raised_at < aged_at and not (case.closed_at and case.closed_at < aged_at)
        ]
        ages = [int((aged_at - case.raised_at.astimezone(UTC)).total_seconds() // 86400) for case in still_open]
        complaints = [case for case in raised if case.complaint]
        calls = [call for call in self.calls if start <= call.offered_at < end]
        answered = [call.wait_seconds for call in calls if call.answered]
        tickets = [ticket for ticket in self.tickets if start <= ticket.served_at < end]
        booked = [ticket for ticket in tickets if ticket.booked]
        reasons: dict[str, dict[str, int]] = {}
        for contact, need in needs:
            month = f"{contact.received_at.astimezone(LONDON):%Y-%m}"
            by_code = reasons.setdefault(month, {})
            by_code[need.code or "unclassified"] = by_code.get(need.code or "unclassified", 0) + 1
        repeats: dict[str, int] = {}
        for contact, need in assessed:
            if need.category == "repeat_contact":
                month = f"{contact.received_at.astimezone(LONDON):%Y-%m}"
                repeats[month] = repeats.get(month, 0) + 1
        self_service = sum(c.channel in SELF_SERVICE for c in contacts)
        return {
            "avoidable_contact": {
                "contacts": len(assessed),
                "avoidable": sum(n.category is not None for _, n in assessed),
                "percent": pct(sum(n.category is not None for _, n in assessed), len(assessed)),
                "by": {
                    "service_area": _split(assessed, lambda c, n: AREAS[str(n.code)]),
                    "channel": _split(assessed, lambda c, n: c.channel),
                    "category": {
                        key: value
                        for key, value in _split(assessed, lambda c, n: str(n.category)).items()
                        if key != "None"
                    },
                    "month": _split(assessed, lambda c, n: f"{c.received_at.astimezone(LONDON):%Y-%m}"),
                },
            },
            "first_contact_resolution": {
                "needs": len(raised),
                "resolved_at_first_contact": sum(case.first_contact for case in raised),
                "percent": pct(sum(case.first_contact for case in raised), len(raised)),
            },
            "channel_mix": {
                "contacts": len(contacts),
                "by_channel": _count(c.channel for c in contacts),
                "self_service": self_service,
                "self_service_percent": pct(self_service, len(contacts)),
            },
            "telephone": {
                "offered": len(calls),
                "answered": len(answered),
                "abandoned": len(calls) - len(answered),
                "abandonment_percent": pct(len(calls) - len(answered), len(calls)),
                "answered_within_20s_percent": pct(sum(w <= 20 for w in answered), len(answered)),
                "average_speed_of_answer_seconds": round(sum(answered) / len(answered), 1) if answered else None,
            },
            "face_to_face": {
                "served": len(tickets),
                "average_wait_seconds": round(sum(t.wait_seconds for t in tickets) / len(tickets), 1)
                if tickets
                else None,
                "longest_wait_seconds": max((t.wait_seconds for t in tickets), default=None),
                "booked": len(booked),
                "booked_seen_within_10_minutes_percent": pct(sum(t.wait_seconds <= 600 for t in booked), len(booked)),
            },
            "written_replies": {"written_contacts": sum(c.channel in ("email", "post") for c in contacts)},
            "sla_compliance": {
                "closed": len(closed),
                "within_standard": sum(bool(case.within) for case in closed),
                "percent": pct(sum(bool(case.within) for case in closed), len(closed)),
                "by_service_area": {
                    area: {
                        "closed": sum(case.area == area for case in closed),
                        "within_standard": sum(case.area == area and bool(case.within) for case in closed),
                        "percent": pct(
                            sum(case.area == area and bool(case.within) for case in closed),
                            sum(case.area == area for case in closed),
                        ),
                    }
                    for area in sorted({case.area for case in closed})
                },
            },
            "open_cases_by_age": {
                "open": len(ages),
                "bands": {
                    label: sum(low <= age and (high is None or age <= high) for age in ages)
                    for label, low, high in AGE_BANDS
                },
            },
            "complaints": {
                "by_stage": (
                    {
                        "informal": {
                            "started": len(complaints),
                            **{
                                verdict: sum(case.complaint == verdict for case in complaints)
                                for verdict in ("on_time", "late", "open")
                            },
                        }
                    }
                    if complaints
                    else {}
                ),
            },
            "satisfaction": {"answers": 0, "satisfied": 0, "percent": None, "average_score": None},
            "reasons_for_contact": {"by_month": reasons, "repeat_contacts_by_month": repeats},
            "duplicates_absorbed": {
                "reports_linked": sum(n.category == "duplicate_report" for _, n in assessed),
            },
        }


def _count(keys: Any) -> dict[str, int]:
    counted: dict[str, int] = {}
    for key in keys:
        counted[key] = counted.get(key, 0) + 1
    return counted


def _split(needs: list[tuple[SentContact, SentNeed]], key: Any) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[SentNeed]] = {}
    for contact, need in needs:
        groups.setdefault(key(contact, need), []).append(need)
    return {
        name: {
            "contacts": len(group),
            "avoidable": sum(n.category is not None for n in group),
            "percent": pct(sum(n.category is not None for n in group), len(group)),
        }
        for name, group in sorted(groups.items())
    }


def card_values(figures: dict[str, Any]) -> dict[str, str]:
    """What the dashboard's cards must show for these figures."""

    def shown(value: float | None, unit: str) -> str:
        return "no figure" if value is None else f"{value:g}{unit}"

    wait = figures["face_to_face"]["average_wait_seconds"]
    return {
        "Avoidable contact (NI14)": shown(figures["avoidable_contact"]["percent"], "%"),
        "Resolved at first contact": shown(figures["first_contact_resolution"]["percent"], "%"),
        "Self-service share": shown(figures["channel_mix"]["self_service_percent"], "%"),
        "Calls abandoned": shown(figures["telephone"]["abandonment_percent"], "%"),
        "Calls answered in 20 seconds": shown(figures["telephone"]["answered_within_20s_percent"], "%"),
        "Average speed of answer": shown(figures["telephone"]["average_speed_of_answer_seconds"], " s"),
        "Average wait at the one-stop shop": shown(round(wait / 60, 1) if wait is not None else None, " min"),
        "Cases within the service standard": shown(figures["sla_compliance"]["percent"], "%"),
        "Satisfied customers": shown(figures["satisfaction"]["percent"], "%"),
        "Duplicate reports absorbed": shown(figures["duplicates_absorbed"]["reports_linked"], ""),
    }


# --- sending it -------------------------------------------------------------------------------------------


class Sender:
    """Sends traffic the way the council's channels and systems do, and records it as it goes."""

    def __init__(self, intake: Any, publish: Any, headers: dict[str, str], feeds: dict[str, str]) -> None:
        self.intake, self.publish, self.headers, self.feeds = intake, publish, headers, feeds
        self.record = Record()

    async def contact(
        self, channel: str, received_at: datetime, email: str, *needs: tuple[dict[str, Any], SentNeed]
    ) -> list[SentNeed]:
        """A contact from a desktop, a form, an app or the resident's account, with the time it came in."""
        body = {
            "channel": channel,
            "received_at": received_at.isoformat(),
            # Verified as the services asked for need (council tax, permits), on the phone or signed in.
            "customer": {"name": email.split("@")[0].title(), "email": email, "assurance": "medium"},
            "needs": [need for need, _ in needs],
        }
        response = await self.intake.post("/contacts", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return self._recorded(channel, received_at, [sent for _, sent in needs], response.json())

    async def message(
        self, received_at: datetime, email: str, subject: str, text: str, sent: SentNeed, *, letter: bool = False
    ) -> list[SentNeed]:
        """An email, or a scanned letter, through the mail room: dated by its Date header."""
        headers = [
            f"From: {email.split('@')[0].title()} <{email}>",
            "To: customer.services@council.example",
            f"Subject: {subject}",
            f"Date: {format_datetime(received_at)}",
            f"Message-ID: <{uuid4()}@example.org>",
            *(["X-Onestop-Channel: post"] if letter else []),
        ]
        raw = ("\r\n".join(headers) + "\r\n\r\n" + text + "\r\n").encode()
        response = await self.intake.post(
            "/mailroom/messages", content=raw, headers=self.headers | {"Content-Type": "message/rfc822"}
        )
        assert response.status_code == 201, response.text
        return self._recorded("post" if letter else "email", received_at, [sent], response.json())

    def _recorded(
        self, channel: str, received_at: datetime, needs: list[SentNeed], receipt: dict[str, Any]
    ) -> list[SentNeed]:
        for sent, given in zip(needs, receipt["needs"], strict=True):
            if sent.case:
                case_id = case_id_for(UUID(receipt["contact_id"]), UUID(given["need_id"]))
                sent.case.case_id, sent.case.reference = str(case_id), given["reference"]
        self.record.contacts.append(SentContact(channel, received_at, needs))
        return needs

    async def call(self, offered_at: datetime, wait_seconds: float, answered: bool) -> None:
        call_id = str(uuid4())
        ended = (offered_at + timedelta(seconds=wait_seconds)).isoformat()
        for event in (
            {"event": "offered", "call_id": call_id, "queue": "main", "at": offered_at.isoformat()},
            {
                "event": "answered" if answered else "abandoned",
                "call_id": call_id,
                "queue": "main",
                "at": ended,
                "wait_seconds": wait_seconds,
            },
        ):
            response = await self.intake.post("/feeds/telephony", json=event, headers=self.feeds)
            assert response.status_code == 202, response.text
        self.record.calls.append(SentCall(offered_at, wait_seconds, answered))

    async def ticket(self, served_at: datetime, wait_seconds: float, booked: bool) -> None:
        ticket_id = str(uuid4())
        issued = (served_at - timedelta(seconds=wait_seconds)).isoformat()
        for event in (
            {
                "event": "issued",
                "ticket_id": ticket_id,
                "site": "Guildhall",
                "at": issued,
                "booked_appointment": booked,
            },
            {
                "event": "served",
                "ticket_id": ticket_id,
                "site": "Guildhall",
                "at": served_at.isoformat(),
                "wait_seconds": wait_seconds,
                "booked_appointment": booked,
            },
        ):
            response = await self.intake.post("/feeds/reception", json=event, headers=self.feeds)
            assert response.status_code == 202, response.text
        self.record.tickets.append(SentTicket(served_at, wait_seconds, booked))

    async def completed(self, case: SentCase, at: datetime, *, within: bool) -> None:
        """The back office's line-of-business system reports the work done, at the time it was done."""
        await self.publish(
            WorkCompleted(
                case_id=case.case_id,
                system="lob-test",
                service_areas=(case.area,),
                work_item_id=f"W-{case.reference}",
                completed_at=at,
                outcome="Done",
            )
        )
        case.closed_at, case.within = at, within
        if case.complaint == "open":
            case.complaint = "on_time" if within else "late"

    async def rejected(self, case: SentCase, at: datetime) -> None:
        """Not the back office's work: the case is routed again, and its contact was wrongly routed."""
        await self.publish(
            HandOffRejected(
                case_id=case.case_id,
                system="lob-test",
                service_areas=(case.area,),
                rejected_at=at,
                reason="Not a road defect: a utility company's trench",
                suggested_team="street-works",
            )
        )
