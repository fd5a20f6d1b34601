"""`GET /health`: the service is up, reaches its database and the broker, and its background work runs."""

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[None]]


def health_router(service: str, checks: Mapping[str, Check] | Callable[[], Mapping[str, Check]]) -> APIRouter:
    """Each check raises when its dependency is unreachable or its work is down; any failure makes it 503."""
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness and dependencies")
    async def health() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in (checks() if callable(checks) else checks).items():
            try:
                await check()
                results[name] = "ok"
            except RuntimeError as exc:  # the supervisor's own explanation: names no personal data
                results[name] = f"failing: {exc}"
            except Exception as exc:
                results[name] = f"failing: {type(exc).__name__}"
        healthy = all(value == "ok" for value in results.values())
        return JSONResponse(
            {"service": service, "status": "ok" if healthy else "degraded", "checks": results},
            status_code=200 if healthy else 503,
        )

    return router
