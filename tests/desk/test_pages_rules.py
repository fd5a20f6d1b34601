"""The desk's own rules, without services: what a contact form becomes, the order of a work list, how a
service level reads, how a trace is laid out, and who may do what."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx

from onestop.desk.api_client import reason_of
from onestop.desk.web.access import Role, Use, may
from onestop.desk.web.contacts import Draft, contact_of
from onestop.desk.web.customers import page_links
from onestop.desk.web.tracking import waterfall
from onestop.desk.web.worklists import clock, most_pressing_first

ADVISER = SimpleNamespace(username="adviser-1")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def a_case(reference: str, priority: str, due_in_hours: float | None, raised_days_ago: int = 1) -> dict[str, object]:
    due = None if due_in_hours is None else (NOW + timedelta(hours=due_in_hours)).isoformat()
    return {
        "reference": reference,
        "priority": priority,
        "sla_due_at": due,
        "raised_at": (NOW - timedelta(days=raised_days_ago)).isoformat(),
    }


def test_a_work_list_puts_emergencies_first_then_the_service_level_that_runs_out_first() -> None:
    cases = [
        a_case("normal-late", "normal", 100),
        a_case("urgent-later", "urgent", 48),
        a_case("normal-none", "normal", None),
        a_case("emergency", "emergency", 200),
        a_case("urgent-soon", "urgent", 2),
        a_case("normal-overdue", "normal", -30),
    ]
    assert [c["reference"] for c in most_pressing_first(cases)] == [
        "emergency",
        "urgent-soon",
        "urgent-later",
        "normal-overdue",
        "normal-late",
        "normal-none",
    ]


def test_the_service_level_clock_reads_overdue_due_today_or_days_left() -> None:
    assert clock(a_case("a", "normal", -50), NOW) == {"text": "Overdue by 2 days", "colour": "red"}
    assert clock(a_case("a", "normal", 5), NOW)["text"] == "Due today"
    assert clock(a_case("a", "normal", 24 * 5 + 1), NOW) == {"text": "5 days left", "colour": "green"}
    assert clock(a_case("a", "normal", None), NOW)["text"] == "No service level"


def test_the_new_residents_form_becomes_one_contact_with_needs_resolved_now_and_handed_off() -> None:
    draft = Draft(
        {
            "channel": "telephone",
            "customer-name": "Jo Bloggs",
            "customer-email": "jo@example.org",
            "assurance": "medium",
            "need-1-service": "L-CTDD",
            "need-1-resolved": "yes",
            "need-1-resolution": "Direct debit set up on the call",
            "need-2-service": "526",
            "need-2-description": "New wheelie bin",
            "need-3-service": "524",
            "need-3-about": "os-7k2m-9qxd",
        },
        rows=5,
    )
    contact, errors = contact_of(draft, ADVISER)
    assert errors == []
    assert contact is not None
    assert contact["customer"] == {"name": "Jo Bloggs", "email": "jo@example.org", "assurance": "medium"}
    assert contact["taken_by"] == {"kind": "agent", "id": "adviser-1"}
    first, second, third = contact["needs"]
    assert first == {
        "kind": "payment",
        "service_code": "L-CTDD",
        "description": "",
        "resolved_at_first_contact": True,
        "resolution": "Direct debit set up on the call",
    }
    assert second == {"kind": "service_request", "service_code": "526", "description": "New wheelie bin"}
    assert third["about_reference"] == "OS-7K2M-9QXD"


def test_a_form_with_gaps_names_each_field_to_correct() -> None:
    draft = Draft(
        {
            "channel": "carrier pigeon",
            "need-1-service": "L-CTDD",
            "need-1-resolved": "yes",
            "need-2-description": "something with no service",
            "need-3-service": "no-such-code",
            "need-4-service": "524",
            "need-4-about": "not a reference",
        },
        rows=5,
    )
    contact, errors = contact_of(draft, ADVISER)
    assert contact is None
    assert [e["field"] for e in errors] == [
        "channel",
        "need-1-resolution",
        "need-2-service",
        "need-3-service",
        "need-4-about",
    ]
    assert all(e["href"] == f"#{e['field']}" for e in errors)


def test_an_empty_form_asks_for_a_need() -> None:
    contact, errors = contact_of(Draft({"channel": "telephone"}), ADVISER)
    assert contact is None
    assert errors == [{"field": "need-1-service", "text": "Enter at least one need", "href": "#need-1-service"}]


def test_a_trace_is_laid_out_parent_before_child_with_offsets() -> None:
    spans = [
        {
            "span_id": "c",
            "parent_span_id": "b",
            "name": "NeedRouted process",
            "service": "onestop-cases",
            "start_ns": 9_000_000,
            "duration_ms": 1.0,
        },
        {
            "span_id": "a",
            "parent_span_id": "",
            "name": "POST /contacts",
            "service": "onestop-intake",
            "start_ns": 1_000_000,
            "duration_ms": 5.0,
        },
        {
            "span_id": "b",
            "parent_span_id": "a",
            "name": "contact process",
            "service": "onestop-routing",
            "start_ns": 4_000_000,
            "duration_ms": 2.0,
            "status_error": True,
        },
    ]
    rows = waterfall(spans)
    assert [(r["service"], r["depth"], r["offset_ms"], r["error"]) for r in rows] == [
        ("intake", 0, 0.0, False),
        ("routing", 1, 3.0, True),
        ("cases", 2, 8.0, False),
    ]


def test_roles_decide_what_each_person_may_do() -> None:
    adviser, leader = frozenset({Role.ADVISER.value}), frozenset({Role.TEAM_LEADER.value})
    complaints, analyst = frozenset({Role.COMPLAINTS_MANAGER.value}), frozenset({Role.ANALYST.value})
    assert may(adviser, Use.LOG_CONTACT) and not may(adviser, Use.REASSIGN)
    assert not may(adviser, Use.ESCALATE_COMPLAINT)
    assert may(leader, Use.REASSIGN) and may(leader, Use.ESCALATE_COMPLAINT)
    assert may(complaints, Use.ESCALATE_COMPLAINT) and not may(complaints, Use.LOG_CONTACT)
    assert not may(analyst, Use.FIND_CUSTOMERS) and not may(analyst, Use.SEE_CASE)
    assert may(analyst, Use.TRACE) and may(analyst, Use.TRACK)


def test_a_services_refusal_is_told_in_its_own_words() -> None:
    assert reason_of(httpx.Response(409, json={"detail": "a closed case cannot be escalated"})) == (
        "a closed case cannot be escalated"
    )
    fields = {"detail": [{"loc": ["body", "needs", 0, "kind"], "msg": "Input should be 'payment'"}]}
    assert reason_of(httpx.Response(422, json=fields)) == "needs.0.kind: Input should be 'payment'"
    assert reason_of(httpx.Response(400, text="not json")) == "Bad Request"


def test_search_results_are_paged_the_gov_uk_way() -> None:
    links = page_links("/customers", {"q": "jo bloggs"}, page=5, pages=9)
    assert links["previous_href"] == "/customers?q=jo+bloggs&page=4"
    assert links["next_href"] == "/customers?q=jo+bloggs&page=6"
    assert [(number, current) for number, _, current in links["pages"]] == [
        (1, False),
        (3, False),
        (4, False),
        (5, True),
        (6, False),
        (7, False),
        (9, False),
    ]
    only = page_links("/customers", {"q": "x"}, page=1, pages=1)
    assert only == {"previous_href": "", "next_href": "", "pages": []}
