"""`python -m tests.cases.integration.crashing_cases`: the cases service with a fault injected. It dies
(exit status CRASHED) the first time its outbox relay has something to publish, that is after a commit
and before Kafka has the events."""

import os

from onestop.cases.__main__ import main
from onestop.servicekit.outbox import OutboxRelay

CRASHED = 75
_publish_pending = OutboxRelay.publish_pending


async def _die_before_publishing(relay: OutboxRelay) -> int:
    async with relay.pool.acquire() as connection:
        if await connection.fetchval("SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)"):
            os._exit(CRASHED)
    return await _publish_pending(relay)


if __name__ == "__main__":
    OutboxRelay.publish_pending = _die_before_publishing  # type: ignore[method-assign]
    main()
