"""Public endpoints are rate limited per client, with a reason and when to come back. The client is the
address the request came from; `X-Forwarded-For` counts only when that address is a trusted proxy."""

from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from onestop.servicekit import runtime
from onestop.servicekit.ratelimit import (
    ProxySettings,
    TokenBuckets,
    TrustedProxies,
    process_trusted_proxies,
    rate_limit,
)


def test_a_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == 1.0
    assert buckets.take("b") == 0, "clients are limited separately"
    now[0] = 2.0
    assert buckets.take("a") == 0


def tracking_app(proxies: TrustedProxies | None = None) -> FastAPI:
    app = FastAPI()

    @app.get("/track/{reference}")
    async def track(
        reference: str, _: Annotated[None, Depends(rate_limit(per_minute=6, burst=2, proxies=proxies))]
    ) -> str:
        return reference

    return app


def test_an_endpoint_over_its_limit_answers_429_with_retry_after() -> None:
    client = TestClient(tracking_app(TrustedProxies()))
    assert [client.get("/track/OS-1").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/track/OS-1")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "too many requests" in refused.json()["detail"]


async def statuses(app: Any, peer: str, forwarded_for: list[str]) -> list[int]:
    """One request from `peer` per `X-Forwarded-For` value, in order."""
    transport = httpx.ASGITransport(app=app, client=(peer, 50_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://cases") as client:
        return [
            (await client.get("/track/OS-1", headers={"X-Forwarded-For": value})).status_code for value in forwarded_for
        ]


async def test_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored() -> None:
    app = tracking_app(TrustedProxies.parse("10.0.0.0/8"))
    spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    assert await statuses(app, "127.0.0.1", spoofed) == [200, 200, 429], "loopback is no proxy unless listed"
    assert await statuses(app, "203.0.113.7", spoofed) == [200, 200, 429]


async def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_address() -> None:
    app = tracking_app(TrustedProxies.parse("10.0.0.0/8, 192.0.2.10"))
    # Whatever the caller wrote on the left, the proxies appended the address they saw on the right.
    same_caller = ["1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7:4711", "203.0.113.7, 10.1.2.3"]
    assert await statuses(app, "10.0.0.5", same_caller) == [200, 200, 429]
    others = ["203.0.113.8", "203.0.113.9, 192.0.2.10"]
    assert await statuses(app, "10.0.0.5", others) == [200, 200], "callers behind one proxy each have their own"


def test_trusted_proxies_name_the_client_as_uvicorn_does() -> None:
    proxies = TrustedProxies.parse("10.0.0.0/8,2001:db8::/32")
    assert proxies.client("10.0.0.1", ["203.0.113.7, 10.0.0.2"]) == "203.0.113.7"
    assert proxies.client("10.0.0.1", ["[2001:db9::1]:80", "2001:db8::5"]) == "2001:db9::1"
    assert proxies.client("10.0.0.1", ["10.0.0.3, 10.0.0.2"]) == "10.0.0.3", "all trusted: the left-most"
    assert proxies.client("10.0.0.1", []) == "10.0.0.1"
    assert proxies.client("203.0.113.7", ["10.0.0.9"]) == "203.0.113.7"


def test_a_trusted_proxy_that_is_neither_address_nor_network_is_refused() -> None:
    with pytest.raises(ValueError, match="ONESTOP_TRUSTED_PROXIES: 'proxy.example' is neither"):
        ProxySettings(trusted_proxies="10.0.0.0/8, proxy.example")


@pytest.fixture
def trusted_proxies_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    process_trusted_proxies.cache_clear()
    monkeypatch.delenv("ONESTOP_TRUSTED_PROXIES", raising=False)
    yield monkeypatch
    process_trusted_proxies.cache_clear()


async def test_uvicorn_believes_forwarded_headers_only_from_the_same_trusted_proxies(
    trusted_proxies_setting: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}
    trusted_proxies_setting.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    app = tracking_app()

    runtime.serve(app, "127.0.0.1", 8003)
    assert served["forwarded_allow_ips"] == [], "no proxy is trusted unless configured"
    # As the service runs it: uvicorn's proxy headers first, then the rate limit.
    behind_uvicorn = ProxyHeadersMiddleware(app, trusted_hosts=served["forwarded_allow_ips"])  # type: ignore[arg-type]
    spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    assert await statuses(behind_uvicorn, "127.0.0.1", spoofed) == [200, 200, 429]

    process_trusted_proxies.cache_clear()
    trusted_proxies_setting.setenv("ONESTOP_TRUSTED_PROXIES", "10.0.0.0/8")
    runtime.serve(app, "127.0.0.1", 8003)
    assert served["forwarded_allow_ips"] == ["10.0.0.0/8"]
    behind_uvicorn = ProxyHeadersMiddleware(app, trusted_hosts=served["forwarded_allow_ips"])  # type: ignore[arg-type]
    from_proxy = ["1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7", "203.0.113.8", "3.3.3.3, 203.0.113.7"]
    assert await statuses(behind_uvicorn, "10.0.0.5", from_proxy) == [200, 200, 200, 429]
