"""An Open311 request's email is one validated address; anything else is a 400 in Open311's error format."""

from collections.abc import Callable
from typing import Any
from uuid import uuid4
from xml.etree import ElementTree

import pytest

from tests.intake.conftest import RunningIntake

pytestmark = pytest.mark.integration

KEY = f"open311-email-test-{uuid4().hex}"


@pytest.fixture
async def intake(start_intake: Callable[..., Any]) -> RunningIntake:
    return await start_intake(intake_open311_api_keys=f"{KEY}:email-test-site")  # type: ignore[no-any-return]


def a_request(*emails: str) -> dict[str, Any]:
    return {
        "api_key": KEY,
        "service_code": "587",
        "lat": "52.2405",
        "long": "-0.9027",
        "description": "Mattress dumped by the garages",
        "email": list(emails),  # sent once per address
    }


@pytest.mark.parametrize(
    ("emails", "reason"),
    [
        (("ali@example.org\r\nBcc: everyone@example.org",), "email must not contain control characters"),
        (("ali@example.org, bea@example.org",), "email must be one address, not a list"),
        (("ali@example.org", "bea@example.org"), "email must be one address, not a list"),
        (("Ali Khan <ali@example.org>",), "email must be the address alone"),
        (("ali at example dot org",), "email must be the address alone"),
        (("ali@",), "email is not an email address"),
    ],
)
async def test_an_email_that_is_not_one_plain_address_is_a_400_with_the_reason(
    intake: RunningIntake, emails: tuple[str, ...], reason: str
) -> None:
    refused = await intake.client.post("/open311/v2/requests.json", data=a_request(*emails))
    assert refused.status_code == 400
    [error] = refused.json()
    assert error["code"] == 400 and error["description"].startswith(reason)

    in_xml = await intake.client.post("/open311/v2/requests.xml", data=a_request(*emails))
    assert in_xml.status_code == 400
    assert ElementTree.fromstring(in_xml.content).findtext("error/description", "").startswith(reason)


async def test_one_plain_address_is_taken(intake: RunningIntake) -> None:
    taken = await intake.client.post("/open311/v2/requests.json", data=a_request(" ali@example.org "))
    assert taken.status_code == 201 and taken.json()[0]["token"]
