"""`python -m tests.cases.integration.crashing_cases`: the cases service with a fault injected. It dies
(exit status CRASHED) the first time its outbox relay has something to publish, that is after a commit
and before Kafka has the events."""

import os
from collections.abc import Sequence

from onestop.cases.__main__ import main
from onestop.servicekit.outbox import OutboxRelay, OutboxRow

CRASHED = 75


async def _die_before_publishing(relay: OutboxRelay, rows: Sequence[OutboxRow]) -> None:
    os._exit(CRASHED)


if __name__ == "__main__":
    OutboxRelay.publish = _die_before_publishing  # type: ignore[method-assign]
    main()
