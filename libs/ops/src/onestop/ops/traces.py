"""A local trace and metrics viewer: receives OTLP/HTTP and shows each trace as a waterfall.

Operations teams can watch a contact's journey across the five services on a fresh machine with no
Docker: services export to OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 and the page at
http://127.0.0.1:4318/ lists recent traces. Spans are kept in memory (the newest `capacity` of them).
http://127.0.0.1:4318/metrics shows the latest value of every metric (event rates, processing time,
consumer lag) per service.

    python -m onestop.ops.traces [--port 4318]
"""

import argparse
import html
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

T = TypeVar("T")


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


@dataclass(frozen=True)
class MetricPoint:
    service: str
    name: str
    attributes: tuple[tuple[str, str], ...]
    value: float  # a sum or gauge's value; a histogram's count
    total: float | None = None  # a histogram's sum
    unit: str = ""

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.attributes)


class MetricStore:
    """The latest point of every metric, per service and attribute set."""

    def __init__(self) -> None:
        self.points: dict[tuple[str, str, tuple[tuple[str, str], ...]], MetricPoint] = {}

    def add(self, point: MetricPoint) -> None:
        self.points[(point.service, point.name, point.attributes)] = point

    def named(self, name: str) -> list[MetricPoint]:
        return [point for point in self.points.values() if point.name == name]


def parse_metrics(body: bytes) -> list[MetricPoint]:
    request = ExportMetricsServiceRequest()
    request.ParseFromString(body)
    points = []
    for resource_metrics in request.resource_metrics:
        service = _service_of(resource_metrics.resource)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                for data_point in getattr(metric, kind).data_points if kind else ():
                    attributes = tuple(sorted((a.key, _attribute_text(a.value)) for a in data_point.attributes))
                    if kind in ("histogram", "exponential_histogram", "summary"):
                        value, total = float(data_point.count), float(data_point.sum)
                    else:
                        number = data_point.WhichOneof("value")
                        value, total = float(getattr(data_point, number) if number else 0), None
                    points.append(MetricPoint(service, metric.name, attributes, value, total, metric.unit))
    return points


def _service_of(resource: object) -> str:
    attributes = resource.attributes  # type: ignore[attr-defined]
    return next((a.value.string_value for a in attributes if a.key == "service.name"), "unknown")


def parse_export(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = _service_of(resource_spans.resource)
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


async def _received(request: Request, parse: Callable[[bytes], list[T]], what: str) -> list[T]:
    """The items of an OTLP/HTTP export, or the 4xx that says what is wrong with it."""
    if request.headers.get("content-type", "").split(";")[0] != "application/x-protobuf":
        raise HTTPException(415, "send OTLP/HTTP protobuf (application/x-protobuf)")
    try:
        return parse(await request.body())
    except DecodeError as exc:
        raise HTTPException(400, f"not an OTLP {what} export: {exc}") from exc


def _protobuf(message: object) -> Response:
    return Response(message.SerializeToString(), media_type="application/x-protobuf")  # type: ignore[attr-defined]


def create_app(store: SpanStore | None = None, metric_store: MetricStore | None = None) -> FastAPI:
    store = store or SpanStore()
    metric_store = metric_store or MetricStore()
    app = FastAPI(title="onestop traces", docs_url=None, redoc_url=None)
    app.state.store, app.state.metrics = store, metric_store

    @app.post("/v1/metrics")
    async def receive_metrics(request: Request) -> Response:
        points = await _received(request, parse_metrics, "metrics")
        for point in points:
            metric_store.add(point)
        return _protobuf(ExportMetricsServiceResponse())

    @app.get("/api/metrics")
    async def list_metrics() -> JSONResponse:
        return JSONResponse([p.__dict__ | {"attributes": dict(p.attributes)} for p in metric_store.points.values()])

    @app.get("/metrics", response_class=HTMLResponse)
    async def metrics_page() -> str:
        rows = "".join(
            f"<tr><td>{html.escape(p.service)}</td><td>{html.escape(p.name)}</td><td>{html.escape(p.label)}</td>"
            f"<td>{p.value:g}{'' if p.total is None else f' (mean {p.total / max(p.value, 1):.4g} {p.unit})'}</td></tr>"
            for p in sorted(metric_store.points.values(), key=lambda p: (p.service, p.name, p.attributes))
        )
        return _page(
            "Metrics",
            "<p><a href='/'>Traces</a></p><table><tr><th>Service</th><th>Metric</th><th>Attributes</th>"
            f"<th>Latest</th></tr>{rows}</table>",
        )

    @app.post("/v1/traces")
    async def receive(request: Request) -> Response:
        spans = await _received(request, parse_export, "trace")
        for span in spans:
            store.add(span)
        return _protobuf(ExportTraceServiceResponse())

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
            "<p><a href='/metrics'>Metrics</a></p><table><tr><th>Trace</th><th>Started by</th><th>Services</th>"
            f"<th>Spans</th><th>Duration (ms)</th><th>Errors</th></tr>{rows}</table>",
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
