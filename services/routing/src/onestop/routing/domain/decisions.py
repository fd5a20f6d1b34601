"""What happens to one need: a new case, a link to a known problem, a chase, or triage; and the NI14
verdict on the contact that brought it (see ../NI14.md for the definition these rules implement)."""

import math
from dataclasses import dataclass
from uuid import UUID

from onestop.contracts.events.common import NeedKind
from onestop.contracts.events.contacts import Need
from onestop.contracts.events.routing import AvoidableCategory
from onestop.routing.domain.known_case import KnownCase


@dataclass(frozen=True)
class Context:
    """What routing knows that bears on one need."""

    by_reference: KnownCase | None
    customers_open: list[KnownCase]  # the same customer's open cases for the same service
    customers_recently_closed: list[KnownCase]  # the same service, closed within the repeat window before
    nearby_open: list[KnownCase]  # open cases of the same service, raised within the duplicate window


@dataclass(frozen=True)
class Verdict:
    avoidable: bool
    category: AvoidableCategory | None
    related_case_id: UUID | None
    explanation: str


@dataclass(frozen=True)
class RaiseCase:
    verdict: Verdict


@dataclass(frozen=True)
class LinkDuplicate:
    case: KnownCase
    distance_metres: float | None
    verdict: Verdict


@dataclass(frozen=True)
class RecordChase:
    case: KnownCase
    verdict: Verdict


Decision = RaiseCase | LinkDuplicate | RecordChase

DUPLICATE_KINDS = frozenset({NeedKind.REPORT_PROBLEM})
CHASEABLE_KINDS = frozenset({NeedKind.REPORT_PROBLEM, NeedKind.SERVICE_REQUEST, NeedKind.INFORMATION})
# Kinds that can be about one problem in one place (a leak reported, then a repair requested for it).
PROBLEM_KINDS = frozenset({NeedKind.REPORT_PROBLEM, NeedKind.SERVICE_REQUEST})
# Reports of our own failure: the contact would not have been needed had the service worked.
COUNCIL_FAILURES = frozenset({"524", "1130"})


def distance_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def same_place(need: Need, case: KnownCase, radius_metres: float) -> tuple[bool, float | None]:
    location = need.location
    if location is None:
        return False, None
    if location.uprn and location.uprn == case.uprn:
        return True, 0.0
    if (
        location.latitude is not None
        and location.longitude is not None
        and case.latitude is not None
        and case.longitude is not None
    ):
        distance = distance_metres(location.latitude, location.longitude, case.latitude, case.longitude)
        if distance <= radius_metres:
            return True, round(distance, 1)
    if location.usrn and location.usrn == case.usrn:
        return True, None
    return False, None


def decide(need: Need, service_code: str, context: Context, radius_metres: float) -> Decision:
    """The one thing to do with this need, with its NI14 verdict."""
    chased = context.by_reference if context.by_reference and context.by_reference.is_open else None
    if chased is None and need.kind in CHASEABLE_KINDS and context.customers_open:
        chased = context.customers_open[0]
    if chased is not None:
        how = "named its reference" if context.by_reference else "has an open case for the same service"
        return RecordChase(
            chased,
            Verdict(True, AvoidableCategory.PROGRESS_CHASING, chased.case_id, f"chasing progress: the customer {how}"),
        )
    if need.kind in DUPLICATE_KINDS:
        for case in context.nearby_open:
            near, distance = same_place(need, case, radius_metres)
            if near:
                verdict = Verdict(
                    True,
                    AvoidableCategory.DUPLICATE_REPORT,
                    case.case_id,
                    "a report of a problem already being dealt with",
                )
                return LinkDuplicate(case, distance, verdict)
    return RaiseCase(_verdict_for_new_case(need, service_code, context, radius_metres))


def the_same_need_again(need: Need, closed: KnownCase, radius_metres: float) -> str | None:
    """Why `need` is the need the closed case answered, asked again (None when it is not): the same service
    and kind, or the same problem at the same place. The next step of a journey (an application after an
    enquiry about the same service) is not the same need."""
    if not closed.was_answered:
        return None
    if need.kind is closed.kind:
        return f"the same {need.kind.value.replace('_', ' ')} again"
    if need.kind in PROBLEM_KINDS and closed.kind in PROBLEM_KINDS and same_place(need, closed, radius_metres)[0]:
        return "the same problem at the same place again"
    return None


def _verdict_for_new_case(need: Need, service_code: str, context: Context, radius_metres: float) -> Verdict:
    for previous in context.customers_recently_closed:
        why = the_same_need_again(need, previous, radius_metres)
        if why is not None:
            return Verdict(
                True,
                AvoidableCategory.REPEAT_CONTACT,
                previous.case_id,
                f"{why}, soon after {previous.reference} closed",
            )
    if need.avoidable_reason:
        category = next(
            (c for c in AvoidableCategory if c.value == need.avoidable_reason), AvoidableCategory.AGENT_REPORTED
        )
        # The agent's own words may name someone: only the category they come to is given in the clear.
        return Verdict(True, category, None, f"reported by the agent: {category.value.replace('_', ' ')}")
    if service_code in COUNCIL_FAILURES and need.kind is NeedKind.REPORT_PROBLEM:
        return Verdict(
            True, AvoidableCategory.COUNCIL_FAILURE, None, "caused by a failure of the service (missed collection)"
        )
    return Verdict(False, None, None, "")
