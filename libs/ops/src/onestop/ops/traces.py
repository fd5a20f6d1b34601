"""A local trace viewer: receives spans over OTLP/HTTP and shows each trace as a waterfall.

Operations teams can watch a contact's journey across the five services on a fresh machine with no
Docker: services export to OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 and the page at
http://127.0.0.1:4318/ lists recent traces. Spans are kept in memory (the newest `capacity` of them).

    python -m onestop.ops.traces [--port 4318]
"""

import argparse
import html
from collections import OrderedDict
from dataclasses import dataclass, field

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    kind: int
    start_ns: int
    end_ns: int
    status_error: bool
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


class SpanStore:
    """The newest spans, grouped by trace; the oldest traces are forgotten first."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self.traces: OrderedDict[str, list[Span]] = OrderedDict()
        self.count = 0

    def add(self, span: Span) -> None:
        spans = self.traces.setdefault(span.trace_id, [])
        spans.append(span)
        self.traces.move_to_end(span.trace_id)
        self.count += 1
        while self.count > self.capacity and self.traces:
            _, dropped = self.traces.popitem(last=False)
            self.count -= len(dropped)

    def summaries(self, limit: int = 100) -> list[dict[str, object]]:
        result = []
        for trace_id in reversed(self.traces):
            spans = self.traces[trace_id]
            root = min(spans, key=lambda s: s.start_ns)
            result.append(
                {
                    "trace_id": trace_id,
                    "root": f"{root.service}: {root.name}",
                    "services": sorted({s.service for s in spans}),
                    "spans": len(spans),
                    "duration_ms": round((max(s.end_ns for s in spans) - root.start_ns) / 1e6, 1),
                    "errors": sum(s.status_error for s in spans),
                }
            )
            if len(result) >= limit:
                break
        return result


def parse_export(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = next(
            (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "unknown"
        )
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    Span(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        service=service,
                        kind=span.kind,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status_error=span.status.code == 2,
                        attributes={a.key: _attribute_text(a.value) for a in span.attributes},
                    )
                )
    return spans


def _attribute_text(value: object) -> str:
    for kind in ("string_value", "int_value", "double_value", "bool_value"):
        if value.HasField(kind):  # type: ignore[attr-defined]
            return str(getattr(value, kind))
    return ""


def create_app(store: SpanStore | None = None) -> FastAPI:
    store = store or SpanStore()
    app = FastAPI(title="onestop traces", docs_url=None, redoc_url=None)
    app.state.store = store

    @app.post("/v1/traces")
    async def receive(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != "application/x-protobuf":
            raise HTTPException(415, "send OTLP/HTTP protobuf (application/x-protobuf)")
        try:
            spans = parse_export(await request.body())
        except DecodeError as exc:
            raise HTTPException(400, f"not an OTLP trace export: {exc}") from exc
        for span in spans:
            store.add(span)
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf")

    @app.get("/api/traces")
    async def list_traces(limit: int = 100) -> JSONResponse:
        return JSONResponse(store.summaries(limit))

    @app.get("/api/traces/{trace_id}")
    async def get_trace(trace_id: str) -> JSONResponse:
        spans = store.traces.get(trace_id)
        if spans is None:
            raise HTTPException(404, f"no trace {trace_id}")
        return JSONResponse([span.__dict__ | {"duration_ms": span.duration_ms} for span in spans])

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        rows = "".join(
            f"<tr><td><a href='/traces/{t['trace_id']}'>{str(t['trace_id'])[:16]}</a></td>"
            f"<td>{html.escape(str(t['root']))}</td><td>{html.escape(', '.join(map(str, t['services'])))}</td>"  # type: ignore[call-overload]
            f"<td>{t['spans']}</td><td>{t['duration_ms']}</td><td>{t['errors']}</td></tr>"
            for t in store.summaries()
        )
        return _page(
            "Recent traces",
            "<table><tr><th>Trace</th><th>Started by</th><th>Services</th><th>Spans</th>"
            f"<th>Duration (ms)</th><th>Errors</th></tr>{rows}</table>",
        )

    @app.get("/traces/{trace_id}", response_class=HTMLResponse)
    async def waterfall(trace_id: str) -> str:
        spans = app.state.store.traces.get(trace_id)
        if spans is None:
            raise HTTPException(404, f"no trace {trace_id}")
        return _page(f"Trace {trace_id}", _waterfall(spans))

    return app


def _waterfall(spans: list[Span]) -> str:
    by_parent: dict[str, list[Span]] = {}
    ids = {span.span_id for span in spans}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else ""
        by_parent.setdefault(parent, []).append(span)
    start = min(span.start_ns for span in spans)
    total = max(max(span.end_ns for span in spans) - start, 1)
    rows: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for span in sorted(by_parent.get(parent, []), key=lambda s: s.start_ns):
            left = 100 * (span.start_ns - start) / total
            width = max(100 * (span.end_ns - span.start_ns) / total, 0.3)
            colour = "#b3261e" if span.status_error else _colour(span.service)
            rows.append(
                "<tr>"
                f"<td style='padding-left:{depth * 14}px'>{html.escape(span.service)}</td>"
                f"<td>{html.escape(span.name)}</td><td>{span.duration_ms:.1f}</td>"
                f"<td class='bar'><div style='margin-left:{left:.2f}%;width:{width:.2f}%;"
                f"background:{colour}'></div></td>"
                "</tr>"
            )
            walk(span.span_id, depth + 1)

    walk("", 0)
    return (
        "<p><a href='/'>All traces</a></p><table><tr><th>Service</th><th>Operation</th><th>ms</th>"
        f"<th style='width:50%'>Timeline</th></tr>{''.join(rows)}</table>"
    )


def _colour(service: str) -> str:
    palette = ["#1d70b8", "#00703c", "#6f72af", "#f47738", "#912b88", "#28a197", "#5694ca"]
    return palette[sum(service.encode()) % len(palette)]


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#0b0c0c}table{border-collapse:collapse;"
        "width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;font-size:14px}"
        ".bar div{height:12px;border-radius:2px}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m onestop.ops.traces")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4318)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
