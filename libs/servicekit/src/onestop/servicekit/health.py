"""`GET /health`: the service is up and can reach its database and the broker."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[None]]


def health_router(service: str, checks: dict[str, Check]) -> APIRouter:
    """Each check raises when its dependency is unreachable; any failure makes the answer 503."""
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness and dependencies")
    async def health() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failing: {type(exc).__name__}"
        healthy = all(value == "ok" for value in results.values())
        return JSONResponse(
            {"service": service, "status": "ok" if healthy else "degraded", "checks": results},
            status_code=200 if healthy else 503,
        )

    return router
