"""What the routing API reads: the triage queue as a person sees it."""

from typing import Any

import asyncpg


class RoutingViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def triage_queue(self) -> list[dict[str, Any]]:
        """Needs waiting in triage, the longest waiting first."""
        rows = await self.pool.fetch(
            "SELECT contact_id, need_id, reason, best_guess, confidence, queued_at FROM triage_queue ORDER BY queued_at"
        )
        return [dict(row) for row in rows]
