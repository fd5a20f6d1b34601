"""The analytics API: every measure as JSON or CSV, with period, service and channel filters."""

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, Response

from onestop.analytics.adapters.measures import Filter, Measures
from onestop.analytics.domain.periods import NotAPeriod, council_days, council_month, this_month
from onestop.analytics.web.dashboard import render_dashboard, render_definitions, render_drilldown, render_published
from onestop.analytics.web.tables import tables
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import Day
from onestop.servicekit.ratelimit import rate_limit

router = APIRouter()
Analyst = Annotated[Principal, Depends(require("analytics:read"))]
MEASURE_NAMES = (
    "avoidable_contact",
    "first_contact_resolution",
    "channel_mix",
    "telephone",
    "face_to_face",
    "written_replies",
    "sla_compliance",
    "open_cases_by_age",
    "complaints",
    "satisfaction",
    "reasons_for_contact",
    "duplicates_absorbed",
    "hand_off_models",
    "reopened_cases",
    "by_channel",
    "trends",
)


def period_filter(
    request: Request,
    month: Annotated[
        str | None, Query(pattern=r"^20\d{2}-\d{2}$", description="A calendar month from 2000 on, e.g. 2026-03")
    ] = None,
    start: Day | None = None,
    end: Day | None = None,
    service_area: str | None = None,
    channel: str | None = None,
) -> Filter:
    """A month, or days from `start` to `end` (exclusive), on the council's clock (COUNCIL_TIMEZONE);
    this month when neither is given."""
    zone = request.app.state.settings.council_zone
    try:
        if month or start is None or end is None:
            first, following = council_month(month or this_month(datetime.now(UTC), zone), zone)
        else:
            first, following = council_days(start, end, zone)
    except NotAPeriod as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return Filter(first, following, service_area or None, channel or None, zone)


Period = Annotated[Filter, Depends(period_filter)]


async def figures(request: Request, period: Filter) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as connection:
        found: dict[str, Any] = await Measures(connection, "facts", period).all(
            request.app.state.settings.analytics_targets
        )
    return found


@router.get("/measures", summary="Every measure for a period, against its target")
async def all_measures(request: Request, period: Period, _: Analyst) -> Any:
    return jsonable_encoder(await figures(request, period))


@router.get("/measures/{name}.csv", summary="One measure as CSV")
async def measure_csv(name: str, request: Request, period: Period, _: Analyst) -> Response:
    if name not in MEASURE_NAMES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no measure {name}; see /measures")
    data = (await figures(request, period))["measures"][name]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["measure", "field", "value"])
    for field, value in _flatten(data):
        writer.writerow([name, field, value])
    return Response(
        out.getvalue(), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'}
    )


@router.get("/measures/{name}", summary="One measure")
async def measure(name: str, request: Request, period: Period, _: Analyst) -> Any:
    if name not in MEASURE_NAMES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no measure {name}; see /measures")
    return jsonable_encoder((await figures(request, period))["measures"][name])


@router.get("/ni14/contacts", summary="The contacts behind the NI14 figure (drill-down)")
async def ni14_contacts(request: Request, period: Period, _: Analyst, category: str | None = None) -> Any:
    async with request.app.state.pool.acquire() as connection:
        return jsonable_encoder(await Measures(connection, "facts", period).avoidable_contacts_behind(category))


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    summary="The published performance dashboard",
    dependencies=[Depends(rate_limit(per_minute=120))],
)
async def dashboard(request: Request, period: Period) -> str:
    return render_dashboard(await figures(request, period), period)


@router.get(
    "/published",
    response_class=HTMLResponse,
    summary="The published-performance page for the council's website (figures only, no free text)",
    dependencies=[Depends(rate_limit(per_minute=120))],
)
async def published(request: Request, period: Period) -> str:
    return render_published(await figures(request, period), period)


@router.get(
    "/dashboard/{name}.csv",
    summary="One of the published tables as CSV",
    dependencies=[Depends(rate_limit(per_minute=120))],
)
async def published_table_csv(name: str, request: Request, period: Period) -> Response:
    every = tables(await figures(request, period), period)
    if name not in every:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no table {name}; the tables are {', '.join(every)}")
    filename = f"{name}-{period.start:%Y-%m}.csv"
    return Response(
        every[name].csv(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/definitions",
    response_class=HTMLResponse,
    summary="What each measure counts: the published definitions (MEASURES.md) the dashboard links to",
    dependencies=[Depends(rate_limit(per_minute=120))],
)
async def definitions() -> str:
    return render_definitions()


@router.get(
    "/dashboard/ni14",
    response_class=HTMLResponse,
    summary="NI14 drill-down: the avoidable contacts",
    dependencies=[Depends(rate_limit(per_minute=120))],
)
async def dashboard_ni14(request: Request, period: Period, category: str | None = None) -> str:
    async with request.app.state.pool.acquire() as connection:
        rows = await Measures(connection, "facts", period).avoidable_contacts_behind(category)
    return render_drilldown(rows, period, category)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        pairs: list[tuple[str, Any]] = []
        for key, inner in value.items():
            pairs += _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return pairs
    return [(prefix, value)]
