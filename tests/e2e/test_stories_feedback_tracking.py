"""Stories through the running services: a resident tracks their request from the link in the
acknowledgement, in English or Welsh, and answers the survey that comes when it is closed, once."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import System
from tests.support import Mail, bearer, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
CASE_WORKER = bearer("cases:read", "cases:write")
ANALYST = bearer("analytics:read")
BROWSER = {"Accept": "text/html,application/xhtml+xml"}


def graffiti(email: str, language: str, n: int) -> dict[str, Any]:
    return {
        "channel": "app",
        "customer": {"name": f"Resident {n}", "email": email, "language": language},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Graffiti on the bus shelter",
                "location": {"latitude": 52.3 + n * 0.01, "longitude": -0.8},
            }
        ],
    }


async def ask_every_closed_case(system: System) -> None:
    """Notify again, asking every closed case for feedback rather than a sample."""
    notify = system.processes["notify"]
    notify.terminate()
    await notify.wait()
    system.env["NOTIFY_FEEDBACK_SAMPLE_RATES"] = '{"*": 1.0}'
    await system.start("notify")
    await system.healthy("notify")


async def mail_with(system: System, to: str, subject_has: str) -> tuple[Mail, str]:
    async def arrived() -> tuple[Mail, str] | None:
        for mail in await system.mail.messages(to):
            if subject_has in mail.subject:
                return mail, await system.mail.text(mail)
        return None

    return await eventually(arrived, within=120)


def link_in(text: str, path: str) -> str:
    return next(word for word in text.split() if path in word).rstrip(".")


async def close(system: System, reference: str) -> None:
    async with httpx.AsyncClient(base_url=system.url("cases"), timeout=30) as cases:

        async def case_id() -> str | None:
            listed = (await cases.get("/cases?limit=100", headers=CASE_WORKER)).json()["items"]
            return next((case["case_id"] for case in listed if case["reference"] == reference), None)

        found = await eventually(case_id, within=60)
        resolved = await cases.post(
            f"/cases/{found}/resolve", json={"outcome": "The graffiti has been cleaned off."}, headers=CASE_WORKER
        )
        assert resolved.status_code == 200, resolved.text


async def test_a_resident_tracks_their_request_and_answers_the_survey_once_in_their_language(
    system: System,
) -> None:
    await ask_every_closed_case(system)
    residents = {"en": "resident@example.org", "cy": "preswylydd@example.org"}
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        for n, (language, email) in enumerate(residents.items()):
            response = await intake.post("/contacts", json=graffiti(email, language, n), headers=DESKTOP)
            assert response.status_code == 201, response.text

    # The acknowledgement links to the tracking page at the configured public address, in the customer's language.
    _, english_ack = await mail_with(system, residents["en"], "We have your request")
    _, welsh_ack = await mail_with(system, residents["cy"], "Mae eich cais gennym")
    assert "Thank you for contacting us" in english_ack
    assert "Diolch am gysylltu" in welsh_ack and "Thank you" not in welsh_ack
    english_track = link_in(english_ack, "/track/")
    welsh_track = link_in(welsh_ack, "/track/")
    assert english_track.startswith(f"{system.env['NOTIFY_TRACKING_BASE_URL']}/track/OS-")
    assert welsh_track.startswith(f"{system.env['NOTIFY_TRACKING_BASE_URL']}/track/OS-")
    assert welsh_track.endswith("?lang=cy")

    async with httpx.AsyncClient(timeout=30) as browser:

        async def page_saying(url: str, words: str) -> str | None:
            shown = await browser.get(url, headers=BROWSER)
            return shown.text if shown.status_code == 200 and words in shown.text else None

        english_page = await eventually(lambda: page_saying(english_track, "We passed it to the team"), within=60)
        assert (await browser.get(english_track, headers=BROWSER)).headers["content-type"].startswith("text/html")
        assert '<html lang="en">' in english_page and "We received your request" in english_page
        assert "resident@example.org" not in english_page and "Resident 0" not in english_page
        welsh_page = await eventually(lambda: page_saying(welsh_track, "Cawsom eich cais"), within=60)
        assert '<html lang="cy">' in welsh_page

        # Closed: the survey arrives, its link opens a form at notify's public address.
        english_reference = english_track.rsplit("/", 1)[1]
        welsh_reference = welsh_track.rsplit("/", 1)[1].split("?")[0]
        await asyncio.gather(close(system, english_reference), close(system, welsh_reference))
        _, english_survey = await mail_with(system, residents["en"], "How did we do")
        _, welsh_survey = await mail_with(system, residents["cy"], "Sut wnaethom ni")
        english_link = link_in(english_survey, "/feedback/")
        welsh_link = link_in(welsh_survey, "/feedback/")
        assert english_link.startswith(f"{system.env['NOTIFY_PUBLIC_BASE_URL']}/feedback/")
        assert welsh_link.endswith("?lang=cy") and "Dywedwch wrthym sut wnaethom ni" in welsh_survey

        form = await browser.get(english_link, headers=BROWSER)
        assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in form.text and "<fieldset" in form.text and "<legend>" in form.text
        assert all(f'name="score" value="{score}"' in form.text for score in range(1, 6))
        assert '<label for="comment">' in form.text
        welsh_form = await browser.get(welsh_link, headers=BROWSER)
        assert "Bodlon iawn" in welsh_form.text and '<html lang="cy">' in welsh_form.text

        # Answered once; the second answer gets a page saying so, and counts for nothing.
        answered = await browser.post(english_link, data={"score": "5", "comment": "Gone the same day"})
        assert answered.status_code == 200 and "Thank you for your feedback" in answered.text
        again = await browser.post(english_link, data={"score": "1", "comment": ""})
        assert again.status_code == 200 and "You have already answered this survey" in again.text
        reopened = await browser.get(english_link, headers=BROWSER)
        assert "You have already answered this survey" in reopened.text
        unscored = await browser.post(welsh_link, data={"comment": "dim sgôr"})
        assert unscored.status_code == 422 and "Dewiswch pa mor fodlon ydych chi" in unscored.text
        welsh_answer = await browser.post(welsh_link, data={"score": "2", "comment": ""})
        assert welsh_answer.status_code == 200 and "Diolch am eich adborth" in welsh_answer.text

        closed_page = await browser.get(english_track, headers=BROWSER)
        assert "We closed the request" in closed_page.text

    # The back office sees both answers, one of them satisfied.
    async with httpx.AsyncClient(base_url=system.url("analytics"), timeout=30) as analytics:

        async def satisfaction() -> dict[str, Any] | None:
            figures: dict[str, Any] = (await analytics.get("/measures/satisfaction", headers=ANALYST)).json()
            return figures if figures["answers"] >= 2 else None

        figures = await eventually(satisfaction, within=60)
        assert (figures["answers"], figures["satisfied"], figures["average_score"]) == (2, 1, 3.5)
