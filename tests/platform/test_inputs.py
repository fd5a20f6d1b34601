"""The shared input types: what every API refuses with a 422 and the reason, before it reaches a database,
a log or a response."""

from datetime import UTC, date, datetime, timedelta, timezone

import asyncpg
import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ValidationError

from onestop.servicekit.inputs import (
    MAX_OFFSET,
    CleanLine,
    CleanText,
    Day,
    Page,
    Timestamp,
    handle_bad_input,
    plain_parameters,
    without_control_characters,
)


class Form(BaseModel):
    text: CleanText = ""
    line: CleanLine = ""
    at: Timestamp | None = None
    day: Day | None = None


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"])
def test_text_refuses_nul_control_characters_and_lone_surrogates(character: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        Form(text=f"Graffiti{character}")
    with pytest.raises(ValidationError, match="control characters"):
        Form(line=f"Graffiti{character}")


def test_free_text_may_run_over_lines_but_a_line_may_not() -> None:
    assert Form(text="Graffiti.\r\n\tAgain.").text == "Graffiti.\r\n\tAgain."
    with pytest.raises(ValidationError, match="one line"):
        Form(line="Graffiti.\nAgain.")
    assert Form(line="Graffiti \u2013 é ✓ 🚮").line == "Graffiti \u2013 é ✓ 🚮"


def test_control_characters_can_be_taken_out_instead() -> None:
    assert without_control_characters("Bins\x00 again\r\n") == "Bins again\r\n"
    assert without_control_characters("Bins\nagain\x07", one_line=True) == "Bins again "


def test_a_timestamp_needs_a_timezone_and_a_sane_year_and_is_kept_in_utc() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Form(at=datetime(2026, 3, 2, 10, 0))
    for far_off in (
        datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2100, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
    ):
        with pytest.raises(ValidationError, match="2000-01-01"):
            Form(at=far_off)
    local = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert Form(at=local).at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert Form.model_validate_json('{"at": "2026-03-02T10:00:00Z"}').at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_a_day_has_a_sane_year() -> None:
    with pytest.raises(ValidationError, match="before 2100"):
        Form(day=date(9999, 12, 31))
    assert Form(day=date(2026, 3, 2)).day == date(2026, 3, 2)


def test_the_documented_patterns_tell_clients_what_is_refused() -> None:
    properties = Form.model_json_schema()["properties"]
    assert properties["text"]["pattern"].startswith("^[^\\x00-\\x08")
    assert "\\x0A" in properties["line"]["pattern"] and "\\x0A" not in properties["text"]["pattern"]


def an_app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(plain_parameters)])
    handle_bad_input(app)

    @app.get("/things/{name}")
    async def things(name: str, page: Page, colour: str | None = None) -> dict[str, object]:
        return {"name": name, "limit": page.limit, "offset": page.offset}

    @app.post("/forms")
    async def forms(form: Form, values: dict[str, int] | None = None) -> dict[str, str]:
        return {"text": form.text}

    @app.get("/stored")
    async def stored() -> None:
        raise asyncpg.exceptions.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00')

    @app.get("/decoded")
    async def decoded() -> None:
        b"\xff".decode()

    return app


async def test_parameters_out_of_bounds_or_with_control_characters_are_422() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=an_app()), base_url="http://test") as client:
        fine = await client.get("/things/bins?limit=10&offset=20")
        assert fine.json() == {"name": "bins", "limit": 10, "offset": 20}
        for query in ("offset=-1", f"offset={MAX_OFFSET + 1}", "limit=0", "limit=501", f"offset={2**64}"):
            assert (await client.get(f"/things/bins?{query}")).status_code == 422, query
        for url in ("/things/bi%00ns", "/things/bins?colour=red%0Ablue", "/things/bins?co%07lour=red"):
            answer = await client.get(url)
            assert answer.status_code == 422 and "control characters" in answer.text, url


async def test_what_the_database_or_a_decoder_refuses_is_422_without_echoing_the_value() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=an_app()), base_url="http://test") as client:
        stored = await client.get("/stored")
        assert stored.status_code == 422 and "0x00" not in stored.text
        assert (await client.get("/decoded")).status_code == 422


async def test_a_refusal_is_encodable_whatever_was_sent_and_does_not_quote_it() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=an_app()), base_url="http://test") as client:
        for body in ('{"form": {"text": "\\ud800"}}', '"\\ud800"', '{"form": {"line": "Pat Smith\\n"}}'):
            answer = await client.post("/forms", content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 422, body
            assert all(set(reason) == {"type", "loc", "msg"} for reason in answer.json()["detail"])
            assert "Pat Smith" not in answer.text
