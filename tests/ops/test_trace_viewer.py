"""The local trace viewer receives OTLP spans and shows a trace as one connected waterfall."""

from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from onestop.ops.traces import SpanStore, create_app


def a_journey() -> bytes:
    exporter = InMemorySpanExporter()
    spans = []
    for service in ("intake", "routing"):
        provider = TracerProvider(resource=Resource.create({"service.name": f"onestop-{service}"}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        spans.append(provider.get_tracer("test"))
    intake, routing = spans
    with intake.start_as_current_span("POST /contacts"), intake.start_as_current_span("publish contacts"):
        parent = trace.get_current_span().get_span_context()
    with routing.start_as_current_span(
        "consume contacts", context=trace.set_span_in_context(trace.NonRecordingSpan(parent))
    ):
        pass
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def test_spans_from_two_services_make_one_trace() -> None:
    store = SpanStore()
    client = TestClient(create_app(store))
    response = client.post("/v1/traces", content=a_journey(), headers={"content-type": "application/x-protobuf"})
    assert response.status_code == 200
    [summary] = client.get("/api/traces").json()
    assert summary["services"] == ["onestop-intake", "onestop-routing"]
    assert summary["spans"] == 3
    page = client.get(f"/traces/{summary['trace_id']}")
    assert page.status_code == 200
    assert "consume contacts" in page.text
    assert "POST /contacts" in client.get("/").text


def test_garbage_is_refused_with_a_reason() -> None:
    client = TestClient(create_app())
    assert (
        client.post("/v1/traces", content=b"\xff\x00", headers={"content-type": "application/x-protobuf"}).status_code
        == 400
    )
    assert client.post("/v1/traces", json={}).status_code == 415
    assert client.get("/traces/deadbeef").status_code == 404


def test_oldest_traces_are_forgotten_first() -> None:
    store = SpanStore(capacity=3)
    client = TestClient(create_app(store))
    for _ in range(3):
        client.post("/v1/traces", content=a_journey(), headers={"content-type": "application/x-protobuf"})
    assert len(store.traces) == 1
