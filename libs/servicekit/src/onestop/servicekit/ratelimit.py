"""Rate limits for public endpoints (tracking, Open311 reads, survey answers): a token bucket per client.

Limits are per process, which is what a single instance behind a council's gateway needs; a gateway in
front of several instances should also limit.

The client is the address the request came from, unless that is one of the trusted proxies (the setting
ONESTOP_TRUSTED_PROXIES, none by default): then it is the right-most address in `X-Forwarded-For` that is
not a trusted proxy. Anything further left was written by the caller and proves nothing. uvicorn is given
the same list (`forwarded_allow_ips`, see `runtime.serve`), so the two never disagree about who called.
"""

import functools
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from fastapi import HTTPException, Request, status
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProxySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="ONESTOP_", extra="ignore")

    # The proxies in front of the services: addresses or networks (CIDR), comma-separated.
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _every_entry_parses(cls, listed: str) -> str:
        TrustedProxies.parse(listed)
        return listed


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    @classmethod
    def parse(cls, listed: str) -> "TrustedProxies":
        networks = []
        for entry in filter(None, (part.strip() for part in listed.split(","))):
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError as exc:
                raise ValueError(f"ONESTOP_TRUSTED_PROXIES: {entry!r} is neither an address nor a network") from exc
        return cls(tuple(networks))

    def __contains__(self, host: str) -> bool:
        try:
            address = ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    @property
    def listed(self) -> list[str]:
        """As uvicorn's `forwarded_allow_ips` takes them."""
        return [str(network) for network in self.networks]

    def client(self, peer: str, forwarded_for: Iterable[str]) -> str:
        """Who called: `peer` itself unless it is a trusted proxy; then the right-most untrusted address in
        `X-Forwarded-For` (each proxy appends the address it was called from), or the left-most when every
        one is trusted."""
        if peer not in self:
            return peer
        hops = [_host_of(hop) for header in forwarded_for for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self:
                return hop
        return hops[0] if hops else peer


def _host_of(hop: str) -> str:
    """An `X-Forwarded-For` entry without its port: `203.0.113.7:4711` and `[2001:db8::1]:4711` name hosts."""
    hop = hop.strip()
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":")[0]
    return hop


@functools.cache
def process_trusted_proxies() -> TrustedProxies:
    """Read once per process, as the service starts."""
    return TrustedProxies.parse(ProxySettings().trusted_proxies)


class TokenBuckets:
    """`rate` requests per second on average, bursts up to `burst`, remembered for `max_clients` clients."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def rate_limit(
    per_minute: int, burst: int | None = None, proxies: TrustedProxies | None = None
) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A FastAPI dependency: 429 with Retry-After once a client exceeds `per_minute`. `proxies` defaults to
    the process's trusted proxies."""
    buckets = TokenBuckets(per_minute / 60, burst or max(1, per_minute // 6))

    async def dependency(request: Request) -> None:
        trusted = proxies if proxies is not None else process_trusted_proxies()
        peer = request.client.host if request.client else "unknown"
        caller = trusted.client(peer, request.headers.getlist("x-forwarded-for"))
        # Per app as well as per caller, so two apps in one process (tests) keep separate counts.
        wait = buckets.take(f"{id(request.app)}:{caller}")
        if wait > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"too many requests; try again in {wait:.0f} seconds",
                headers={"Retry-After": str(max(1, round(wait)))},
            )

    return dependency
