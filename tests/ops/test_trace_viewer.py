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


def a_metrics_export() -> bytes:
    """Counters, a histogram and an observable gauge from one service, as its SDK exports them."""
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.metrics import Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=Resource.create({"service.name": "onestop-routing"}), metric_readers=[reader])
    meter = provider.get_meter("test")
    meter.create_counter("onestop.events.published").add(3, {"type": "onestop.need.routed"})
    meter.create_histogram("onestop.event.processing.duration", unit="s").record(0.25)
    meter.create_histogram("onestop.event.processing.duration", unit="s").record(0.75)
    meter.create_observable_gauge(
        "onestop.consumer.lag", callbacks=[lambda _: [Observation(7, {"consumer.group": "onestop.routing"})]]
    )
    data = reader.get_metrics_data()
    assert data is not None
    return encode_metrics(data).SerializeToString()


def test_metrics_show_their_latest_values_per_service() -> None:
    client = TestClient(create_app())
    protobuf = {"content-type": "application/x-protobuf"}
    assert client.post("/v1/metrics", content=a_metrics_export(), headers=protobuf).status_code == 200
    points = {p["name"]: p for p in client.get("/api/metrics").json()}
    assert points["onestop.events.published"]["value"] == 3
    assert points["onestop.events.published"]["attributes"] == {"type": "onestop.need.routed"}
    assert points["onestop.event.processing.duration"]["value"] == 2  # a histogram shows its count ...
    assert points["onestop.event.processing.duration"]["total"] == 1.0  # ... and its sum
    assert points["onestop.consumer.lag"]["value"] == 7
    assert {p["service"] for p in points.values()} == {"onestop-routing"}
    assert "onestop.consumer.lag" in client.get("/metrics").text


def test_a_metrics_export_that_is_not_otlp_protobuf_is_refused_with_the_reason() -> None:
    client = TestClient(create_app())
    assert client.post("/v1/metrics", json={"metrics": []}).status_code == 415
    refused = client.post(
        "/v1/metrics", content=b"\xff\xfe not protobuf", headers={"content-type": "application/x-protobuf"}
    )
    assert refused.status_code == 400 and "not an OTLP metrics export" in refused.json()["detail"]
