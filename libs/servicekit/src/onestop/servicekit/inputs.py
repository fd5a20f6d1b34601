"""What every API accepts, in one place: text without control characters, timestamps with a timezone and
within sane bounds, paging within limits, request bodies within a size; and a 422, never a 500, for a value
that gets past these and is still refused by the database or a decoder.

    class NoteIn(BaseModel):
        text: CleanText = Field(min_length=1, max_length=10_000)
        team: CleanLine = Field(max_length=120)
        expected_by: Timestamp | None = None
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, AwareDatetime, GetJsonSchemaHandler
from pydantic_core import CoreSchema

# A JSON body larger than this is refused with 413 before it is parsed; routes that take uploads set their own.
MAX_BODY_BYTES = 1024 * 1024

# Every moment the APIs accept lies in [EARLIEST, LATEST): anything else is a typo or a probe, and far-off
# years overflow date arithmetic (an SLA clock, a month's end) before they reach the database.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# PostgreSQL refuses NUL in text, XML 1.0 refuses most C0 controls, and lone surrogates cannot be encoded
# as UTF-8; none of them belongs in anything a person typed. Tab, line feed and carriage return do.
_CONTROL = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"
_LINE_BREAKS = r"\x09\x0A\x0D"
# Refused too, but left out of the documented pattern: a JSON regex cannot name them, and well-formed
# UTF-8 cannot carry them (only an escaped "\ud800" in JSON can).
_SURROGATES = r"\uD800-\uDFFF"
_CONTROL_IN_TEXT = re.compile(f"[{_CONTROL}{_SURROGATES}]")
_CONTROL_IN_LINE = re.compile(f"[{_CONTROL}{_SURROGATES}{_LINE_BREAKS}]")


def control_character_in(text: str, *, one_line: bool = False) -> str | None:
    """The first character CleanText (or CleanLine) refuses in `text`, as U+XXXX; None when there is none."""
    found = (_CONTROL_IN_LINE if one_line else _CONTROL_IN_TEXT).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def without_control_characters(text: str, *, one_line: bool = False) -> str:
    """`text` with what CleanText (or CleanLine) refuses taken out: for text we must take as it comes, such as
    a letter's scanned words, rather than refuse."""
    return (_CONTROL_IN_LINE if one_line else _CONTROL_IN_TEXT).sub(" " if one_line else "", text)


class _DocumentedPattern:
    """Puts the rule in the OpenAPI document too, so clients (and generated tests) know what is accepted."""

    def __init__(self, forbidden: str) -> None:
        self.pattern = f"^[^{forbidden}]*$"

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


def _clean_text(text: str) -> str:
    if found := control_character_in(text):
        raise ValueError(f"text must not contain control characters (found {found})")
    return text


def _clean_line(text: str) -> str:
    if found := control_character_in(text, one_line=True):
        raise ValueError(f"must be one line without control characters (found {found})")
    return text


# Free text that may run over several lines: descriptions, notes, addresses.
CleanText = Annotated[str, AfterValidator(_clean_text), _DocumentedPattern(_CONTROL)]
# One line: names, identifiers, teams, wards, email addresses.
CleanLine = Annotated[str, AfterValidator(_clean_line), _DocumentedPattern(_CONTROL + _LINE_BREAKS)]


async def plain_parameters(request: Request) -> None:
    """A FastAPI dependency for the whole app: path and query parameters are single lines without control
    characters, whatever their declared type, so none reaches a query or a response."""
    given = [("path", name, value) for name, value in request.path_params.items()]
    given += [("query", name, value) for name, value in request.query_params.multi_items()]
    given += [("query", "(name)", name) for name in request.query_params]
    refused = [
        {
            "type": "value_error",
            "loc": (where, name),
            "msg": f"must be one line without control characters (found {found})",
        }
        for where, name, value in given
        if isinstance(value, str) and (found := control_character_in(value, one_line=True))
    ]
    if refused:
        raise RequestValidationError(refused)


def within_bounds(moment: datetime) -> datetime:
    """`moment` in UTC, or ValueError when it lies outside [EARLIEST, LATEST)."""
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"must be from {EARLIEST:%Y-%m-%d} and before {LATEST:%Y-%m-%d}")
    return moment.astimezone(UTC)


def _day_within_bounds(day: date) -> date:
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"must be from {EARLIEST:%Y-%m-%d} and before {LATEST:%Y-%m-%d}")
    return day


# An instant with its timezone (naive times are refused: whose local time would they be?), normalised to UTC.
Timestamp = Annotated[AwareDatetime, AfterValidator(within_bounds)]
# A calendar day within the same bounds.
Day = Annotated[date, AfterValidator(_day_within_bounds)]

MAX_LIMIT = 500
# Deeper than this, narrow the filter instead: a deep offset makes the database read and drop every row before.
MAX_OFFSET = 100_000


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items at most")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip")] = 0,
) -> Paging:
    return Paging(limit, offset)


# A route's page of a list: `async def list_things(page: Page, ...)` takes `?limit=&offset=` within bounds.
Page = Annotated[Paging, Depends(paging)]


class _AsciiJSONResponse(JSONResponse):
    """JSON with everything beyond ASCII escaped: a refusal may quote a lone surrogate the caller sent, which
    UTF-8 cannot encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


async def explain_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 for a request its models refuse, saying where and why; the value itself is not quoted
    back (it may be personal, or not even encodable)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    reasons = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errors]
    return _AsciiJSONResponse({"detail": reasons}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    # The database's message may quote the value, and the value may be personal: say only what kind of fault.
    return JSONResponse(
        {"detail": "a value in the request is out of range or holds characters that cannot be stored"},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _not_unicode(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "the request holds text that is not valid Unicode"},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def handle_bad_input(app: FastAPI) -> None:
    """Every refusal of a request's input is a 4xx with the reason: the models' own (422, encodable whatever
    was sent), and behind them a value the database refuses as data (out of range, NUL) or text that cannot be
    encoded or decoded."""
    app.add_exception_handler(RequestValidationError, explain_invalid_request)
    app.add_exception_handler(asyncpg.DataError, _unstorable)
    app.add_exception_handler(UnicodeError, _not_unicode)
