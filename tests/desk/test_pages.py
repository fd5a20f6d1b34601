"""The desk's pages against the real services (five processes, a real broker and database), as a signed-in
member of staff uses them: log a contact, act on its cases, and be refused what their role does not allow."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from onestop.localinfra.keycloak import Keycloak
from tests.desk.conftest import DESK, new_browser, sign_in
from tests.desk.running_desk import DeskSystem, form_fields, shared_desk, signed_in, start_desk
from tests.support import eventually

pytestmark = pytest.mark.integration

REFERENCE = re.compile(r"OS-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture(scope="session")
async def desk(kafka_bootstrap: str, postgres_url: str, provider: Keycloak) -> AsyncIterator[DeskSystem]:
    async with shared_desk(kafka_bootstrap, postgres_url, provider, start_desk) as system:
        yield system


def references_in(page: str) -> list[str]:
    return list(dict.fromkeys(REFERENCE.findall(page)))


def error_summary(page: str) -> list[str]:
    """The messages of the GOV.UK error summary, as a reader would hear them."""
    if 'class="govuk-error-summary"' not in page:
        return []
    summary = page.split('govuk-error-summary__list"', 1)[1].split("</ul>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in summary.split("<li>")[1:]]


async def log(client: httpx.AsyncClient, fields: dict[str, str]) -> httpx.Response:
    form = form_fields((await client.get("/contacts/new")).text)
    return await client.post("/contacts", data=form | {"action": "submit"} | fields)


async def case_page(client: httpx.AsyncClient, reference: str) -> tuple[str, str]:
    """The case id and page a reference leads to, once the case is raised."""

    async def raised() -> httpx.Response | None:
        answer = await client.get(f"/cases/by-reference/{reference}")
        return answer if answer.status_code == 303 else None

    location = (await eventually(raised, within=60)).headers["location"]
    page = await client.get(location)
    assert page.status_code == 200, page.text
    return location.rsplit("/", 1)[1], page.text


async def act(client: httpx.AsyncClient, case_id: str, action: str, fields: dict[str, str]) -> httpx.Response:
    form = form_fields((await client.get(f"/cases/{case_id}")).text)
    return await client.post(f"/cases/{case_id}/{action}", data=form | fields)


async def test_a_contact_with_several_needs_is_logged_once_and_its_cases_are_found(desk: DeskSystem) -> None:
    async with signed_in(desk, "adviser") as adviser:
        form = form_fields((await adviser.get("/contacts/new")).text)
        fields = form | {
            "action": "submit",
            "channel": "telephone",
            "customer-name": "Priya Shah",
            "customer-email": "priya.shah@example.org",
            "customer-address": "4 Derngate, Northampton NN1 1UA",
            "assurance": "medium",
            "need-1-service": "L-CTDD",
            "need-1-resolved": "yes",
            "need-1-resolution": "Direct debit set up on the call",
            "need-2-service": "526",
            "need-2-description": "A new wheelie bin, the old one was taken",
        }
        logged = await adviser.post("/contacts", data=fields)
        assert logged.status_code == 200, logged.text
        references = references_in(logged.text)
        assert len(references) == 2
        assert "Resolved now" in logged.text and "Handed off" in logged.text
        # Sent again (a refresh, a double click), the form's own key keeps it one contact.
        again = await adviser.post("/contacts", data=fields)
        assert references_in(again.text) == references

        _, page = await case_page(adviser, references[1])
        assert "A new wheelie bin, the old one was taken" in page and "Priya Shah" in page
        assert "Household waste containers" in page

        async def found() -> str | None:
            answer = await adviser.get("/customers", params={"q": "priya shah"})
            return answer.text if all(r in answer.text for r in references) else None

        results = await eventually(found, within=30)
        customer = re.search(r'href="/customers/([0-9a-f-]{36})"', results)
        assert customer is not None
        view = (await adviser.get(f"/customers/{customer.group(1)}")).text
        assert all(r in view for r in references)
        contacts = view.split('id="contacts-heading"', 1)[1].split("</table>", 1)[0]
        assert contacts.count('<tr class="govuk-table__row">') == 2, "a header row and one contact"


async def test_a_form_with_mistakes_is_shown_again_with_the_error_summary(desk: DeskSystem) -> None:
    async with signed_in(desk, "adviser") as adviser:
        answer = await log(adviser, {"channel": "telephone", "need-1-service": "L-CTDD", "need-1-resolved": "yes"})
        assert answer.status_code == 400
        assert error_summary(answer.text) == ["Need 1: say how it was resolved"]
        assert 'href="#need-1-resolution"' in answer.text
        # What intake refuses is shown in its own words: council tax needs a customer checked to medium.
        refused = await log(
            adviser,
            {"channel": "telephone", "customer-name": "Sam Lee", "need-1-service": "L-CTARR", "assurance": "none"},
        )
        assert refused.status_code == 422
        [reason] = error_summary(refused.text)
        assert "medium" in reason


async def test_case_workers_note_resolve_reopen_and_decline_and_a_refusal_shows_the_services_reason(
    desk: DeskSystem,
) -> None:
    async with signed_in(desk, "adviser") as adviser:
        logged = await log(
            adviser,
            {
                "channel": "face_to_face",
                "customer-name": "Alex Green",
                "need-1-service": "582",
                "need-1-description": "Broken glass across the pavement",
            },
        )
        [reference] = references_in(logged.text)
        case_id, _ = await case_page(adviser, reference)

        form = form_fields((await adviser.get(f"/cases/{case_id}")).text)
        note = form | {"note-text": "Called the street cleansing depot"}
        noted = await adviser.post(f"/cases/{case_id}/note", data=note)
        assert noted.status_code == 303 and noted.headers["location"] == f"/cases/{case_id}?done=note"
        assert (await adviser.post(f"/cases/{case_id}/note", data=note)).status_code == 303  # a double click
        page = (await adviser.get(noted.headers["location"])).text
        assert "Note added" in page
        notes = page.split('id="notes"', 1)[1].split("</ul>", 1)[0]
        assert notes.count("Called the street cleansing depot") == 1, "one note, however often it was sent"

        empty = await act(adviser, case_id, "resolve", {"resolve-outcome": " "})
        assert empty.status_code == 400 and error_summary(empty.text) == ["Say what was done for the customer"]

        resolved = await act(adviser, case_id, "resolve", {"resolve-outcome": "Swept the same day"})
        assert resolved.status_code == 303
        assert "Case resolved" in (await adviser.get(resolved.headers["location"])).text

        # A closed case cannot be declined: the cases service says why, and the desk shows it.
        refused = await act(adviser, case_id, "decline", {"decline-reason": "Not ours"})
        assert refused.status_code == 409
        [reason] = error_summary(refused.text)
        assert reason and "Case declined" not in refused.text

        reopened = await act(adviser, case_id, "reopen", {"reopen-reason": "More glass this morning"})
        assert reopened.status_code == 303
        declined = await act(
            adviser,
            case_id,
            "decline",
            {"decline-reason": "Private land: the owner clears it", "decline-policy": "SC-4"},
        )
        assert declined.status_code == 303
        page = (await adviser.get(f"/cases/{case_id}")).text
        assert ">declined<" in page
        history = page.split('id="history"', 1)[1].split("</ol>", 1)[0]
        assert history.index("Resolved") < history.index("Reopened on") < history.index("Declined on")


async def test_roles_are_kept_to_their_pages_and_forms_need_the_sessions_token(desk: DeskSystem) -> None:
    async with signed_in(desk, "adviser") as adviser:
        logged = await log(adviser, {"channel": "telephone", "need-1-service": "582", "need-1-description": "Litter"})
        [reference] = references_in(logged.text)
        case_id, page = await case_page(adviser, reference)
        assert "/reassign" not in page, "an adviser is not offered reassignment"
        forbidden = await act(adviser, case_id, "reassign", {"reassign-team": "parks"})
        assert forbidden.status_code == 403
        assert "Your role does not allow you to reassign a case" in forbidden.text

        # A post without the session's token (from another site) changes nothing.
        forged = await adviser.post(f"/cases/{case_id}/note", data={"note-text": "forged"})
        assert forged.status_code == 403
        assert "forged" not in (await adviser.get(f"/cases/{case_id}")).text

    async with signed_in(desk, "team_leader") as leader:
        moved = await act(
            leader, case_id, "reassign", {"reassign-team": "street-cleansing-north", "reassign-reason": "Their patch"}
        )
        assert moved.status_code == 303
        assert "Street Cleansing North" in (await leader.get(f"/cases/{case_id}")).text

    async with signed_in(desk, "analyst") as analyst:
        assert (await analyst.get("/customers")).status_code == 403
        assert (await analyst.get(f"/cases/{case_id}")).status_code == 403
        assert (await analyst.get("/contacts/new")).status_code == 403
        tracked = await analyst.get(f"/track/{reference}")
        assert tracked.status_code == 200 and "We received the request" in tracked.text


async def test_the_work_list_puts_an_emergency_first_and_a_contacts_trace_spans_the_services(
    desk: DeskSystem,
) -> None:
    async with signed_in(desk, "team_leader") as leader:
        logged = await log(
            leader,
            {
                "channel": "telephone",
                "customer-name": "Morgan Hill",
                "customer-address": "Flat 3, 10 Sheep Street, Northampton NN1 2LU",
                "assurance": "low",  # a tenant's repair needs their address checked
                "need-1-service": "141",
                "need-1-description": "Kitchen tap dripping",
                "need-2-service": "139",
                "need-2-description": "Ceiling coming down after a leak",
                "need-2-priority": "emergency",
            },
        )
        assert logged.status_code == 200, error_summary(logged.text)
        normal, emergency = references_in(logged.text)
        await case_page(leader, emergency)
        await case_page(leader, normal)
        worklist = (await leader.get("/worklists", params={"service_area": "housing"})).text
        assert worklist.index(emergency) < worklist.index(normal)
        assert "Emergency" in worklist

        trace_id = re.search(r'href="/traces/([0-9a-f]{32})"', logged.text)
        assert trace_id is not None

        rows = [f'<td class="govuk-table__cell">{service}</td>' for service in ("intake", "routing", "cases")]

        async def traced() -> str | None:
            # Each service reports its spans on its own schedule: wait until all three have.
            answer = await leader.get(f"/traces/{trace_id.group(1)}")
            every_service = all(row in answer.text for row in rows)
            return answer.text if answer.status_code == 200 and every_service else None

        trace = await eventually(traced, within=60)
        assert "POST /contacts" in trace


async def test_an_adviser_signed_in_through_the_provider_logs_a_contact(desk: DeskSystem) -> None:
    async with new_browser(desk.settings) as browser:
        start = await sign_in(browser, "demo.adviser", desk.provider.password_of("adviser"), next_path="/contacts/new")
        assert str(start.url) == f"{DESK}/contacts/new"
        assert "Signed in as Ada Adviser (adviser)" in start.text
        logged = await browser.post(
            f"{DESK}/contacts",
            data=form_fields(start.text)
            | {"action": "submit", "channel": "telephone", "need-1-service": "L-BINDAYS"}
            | {"need-1-resolved": "yes", "need-1-resolution": "Told: Tuesdays"},
        )
        assert logged.status_code == 200 and len(references_in(logged.text)) == 1
        [reference] = references_in(logged.text)
        case = await desk.case_of(reference)
        assert case["status"] == "closed"
