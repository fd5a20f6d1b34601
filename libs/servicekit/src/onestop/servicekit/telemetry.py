"""OpenTelemetry for a service: one trace per contact journey, metrics, and JSON logs with trace ids.

Trace context crosses Kafka in the W3C `traceparent` header (and the CloudEvents `ce_traceparent`
attribute): a consumer's span is the child of the producer's, and whatever the handler publishes carries
the consumer's span as its parent, so HTTP intake -> routing -> cases -> notify -> analytics is one trace.
Spans and metrics (event rates, processing time, consumer lag) are exported over OTLP/HTTP when
OTEL_EXPORTER_OTLP_ENDPOINT is set (`make run` points it at the local viewer); otherwise they stay in
the process.
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from onestop.servicekit.settings import ServiceSettings

_propagator = TraceContextTextMapPropagator()
_configured_for: str | None = None

meter = metrics.get_meter("onestop")
events_consumed = meter.create_counter("onestop.events.consumed", description="Events handled, by type and outcome")
events_published = meter.create_counter("onestop.events.published", description="Events published, by type")
processing_seconds = meter.create_histogram(
    "onestop.event.processing.duration", unit="s", description="Time from delivery to the handler's return"
)


def setup_telemetry(
    settings: ServiceSettings, *, extra_processor: SpanProcessor | None = None, json_logs: bool = True
) -> TracerProvider:
    """Install the tracer and meter providers once per process, and JSON logging with trace ids."""
    global _configured_for
    current = trace.get_tracer_provider()
    if _configured_for is not None and isinstance(current, TracerProvider):
        if extra_processor is not None:
            current.add_span_processor(extra_processor)
        return current
    resource = Resource.create({"service.name": f"onestop-{settings.service_name}", "service.namespace": "onestop"})
    provider = TracerProvider(resource=resource, sampler=journey_sampler(settings.otel_traces_sample_ratio))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=500))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    readers = []
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/metrics"
        # The interval is OTEL_METRIC_EXPORT_INTERVAL (milliseconds; the SDK's default is a minute).
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=endpoint)))
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))

    if settings.otel_sql_spans:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    if json_logs:
        configure_json_logging(settings.service_name)
    _configured_for = settings.service_name
    return provider


class JourneyRootSampler(Sampler):
    """Decides for spans that start a trace: a database statement or other client call with no parent is a
    background poller's (the outbox relay, a clock), not a journey, so it is dropped instead of flooding the
    trace view with lone BEGIN/SELECT/COMMIT traces; any other root is kept at `ratio`."""

    def __init__(self, ratio: float) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return self._ratio.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"JourneyRootSampler({self._ratio.get_description()})"


def journey_sampler(ratio: float) -> Sampler:
    """Parent-based: a span inside a journey follows the journey's decision, so a trace is whole or absent."""
    return ParentBased(root=JourneyRootSampler(ratio))


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, or None outside a recording span."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> Any:
    return _propagator.extract({"traceparent": traceparent} if traceparent else {})


def span_context_of(traceparent: str | None) -> trace.SpanContext:
    """The span a traceparent names (invalid when there is none), e.g. to link a batch span to it."""
    return trace.get_current_span(context_from_traceparent(traceparent)).get_span_context()


def instrument_fastapi(app: Any) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # A server span per request; not two more for every receive and send of its body.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health", exclude_spans=["receive", "send"])


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the trace and span of whatever was running."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_json_logging(service: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLogFormatter(service))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faststream.access", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
