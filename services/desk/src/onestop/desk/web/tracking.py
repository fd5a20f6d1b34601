"""What a customer sees when they track a request, shown to staff; and the trace of a contact's journey
through the services, for support staff."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onestop.desk.web.access import Use
from onestop.desk.web.customers import REFERENCE, area_name
from onestop.desk.web.visit import Visitor

router = APIRouter()
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
STEP_NAMES = {
    "raised": "We received the request",
    "handed-off": "Passed to the team that deals with it",
    "accepted": "The team accepted it",
    "progress-updated": "Progress update",
    "resolved": "Done",
    "declined": "Declined",
    "closed": "Closed",
    "reopened": "Reopened",
}


@router.get("/track", response_class=HTMLResponse)
async def track_form(visit: Visitor, reference: Annotated[str, Query(max_length=40)] = "") -> Response:
    visit.check(Use.TRACK)
    wanted = reference.strip().upper()
    if not wanted:
        return visit.page("track.html", title="Track a request", tracked=None, reference="")
    if not REFERENCE.match(wanted):
        errors = [{"field": "reference", "text": "Enter a reference like OS-7K2M-9QXD", "href": "#reference"}]
        return visit.page("track.html", 400, title="Track a request", tracked=None, reference=reference, errors=errors)
    return RedirectResponse(f"/track/{wanted}", status_code=303)


@router.get("/track/{reference}", response_class=HTMLResponse)
async def tracked(reference: str, visit: Visitor) -> HTMLResponse:
    visit.check(Use.TRACK)
    wanted = reference.upper()
    found = await visit.services.track(wanted) if REFERENCE.match(wanted) else None
    if found is None:
        errors = [{"field": "reference", "text": f"No request has the reference {wanted[:20]}", "href": "#reference"}]
        return visit.page(
            "track.html", 404, title="Track a request", tracked=None, reference=wanted[:20], errors=errors
        )
    steps = [
        {"text": STEP_NAMES.get(step["step"], step["step"]), "at": step["at"]} for step in found.get("history", [])
    ]
    return visit.page(
        "track.html",
        title=f"Tracking {wanted}",
        tracked=found | {"area": area_name(found.get("service_area"))},
        steps=steps,
        reference=wanted,
    )


def waterfall(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spans in the order they ran, each under its parent, with where it starts and how long it took."""
    if not spans:
        return []
    start = min(int(s["start_ns"]) for s in spans)
    by_parent: dict[str, list[dict[str, Any]]] = {}
    ids = {s["span_id"] for s in spans}
    for span in sorted(spans, key=lambda s: int(s["start_ns"])):
        parent = span.get("parent_span_id") or ""
        by_parent.setdefault(parent if parent in ids else "", []).append(span)
    rows: list[dict[str, Any]] = []

    def walk(parent: str, depth: int) -> None:
        for span in by_parent.get(parent, []):
            rows.append(
                {
                    "service": str(span.get("service", "")).removeprefix("onestop-"),
                    "name": span.get("name", ""),
                    "depth": depth,
                    "offset_ms": round((int(span["start_ns"]) - start) / 1e6, 1),
                    "duration_ms": round(float(span.get("duration_ms", 0)), 1),
                    "error": bool(span.get("status_error")),
                }
            )
            if len(rows) < 2000:
                walk(span["span_id"], depth + 1)

    walk("", 0)
    return rows


@router.get("/traces", response_class=HTMLResponse)
async def trace_form(visit: Visitor, trace_id: Annotated[str, Query(max_length=64)] = "") -> Response:
    visit.check(Use.TRACE)
    wanted = trace_id.strip().lower()
    if not wanted:
        return visit.page("trace.html", title="Trace a contact", spans=None, trace_id="")
    if not TRACE_ID.match(wanted):
        errors = [{"field": "trace_id", "text": "Enter a trace id: 32 letters a to f and digits", "href": "#trace_id"}]
        return visit.page("trace.html", 400, title="Trace a contact", spans=None, trace_id=trace_id, errors=errors)
    return RedirectResponse(f"/traces/{wanted}", status_code=303)


@router.get("/traces/{trace_id}", response_class=HTMLResponse)
async def trace(trace_id: str, visit: Visitor) -> HTMLResponse:
    visit.check(Use.TRACE)
    wanted = trace_id.lower()
    spans = await visit.services.trace(wanted) if TRACE_ID.match(wanted) else None
    if spans is None:
        message = "The services have not reported this journey yet, or it is older than the viewer keeps. Refresh in a moment."
        errors = [{"field": "trace_id", "text": message, "href": "#trace_id"}]
        return visit.page("trace.html", 404, title="Trace a contact", spans=None, trace_id=wanted[:32], errors=errors)
    rows = waterfall(spans)
    services = sorted({row["service"] for row in rows})
    return visit.page("trace.html", title="Trace of a contact", spans=rows, services=services, trace_id=wanted)
