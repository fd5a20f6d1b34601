"""Public endpoints are rate limited per client, with a reason and when to come back."""

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from onestop.servicekit.ratelimit import TokenBuckets, rate_limit


def test_a_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == 1.0
    assert buckets.take("b") == 0, "clients are limited separately"
    now[0] = 2.0
    assert buckets.take("a") == 0


def test_an_endpoint_over_its_limit_answers_429_with_retry_after() -> None:
    app = FastAPI()

    @app.get("/track/{reference}")
    async def track(reference: str, _: Annotated[None, Depends(rate_limit(per_minute=6, burst=2))]) -> str:
        return reference

    client = TestClient(app)
    assert [client.get("/track/OS-1").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/track/OS-1")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "too many requests" in refused.json()["detail"]
