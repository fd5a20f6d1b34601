"""Publishing the rules in force: each version once, at start-up, on a reload and whenever the watcher
sees the file change (reloaded without a restart)."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from onestop.contracts.events.routing import RoutingRulesPublished
from onestop.routing.adapters.repositories import RoutingRepositories
from onestop.routing.adapters.rules_file import RulesFile
from onestop.servicekit.unit_of_work import UnitsOfWork


class RulesPublication:
    def __init__(
        self,
        rules: RulesFile,
        units: UnitsOfWork[RoutingRepositories],
        clock: Callable[[], datetime],
        poll_seconds: float,
    ) -> None:
        self.rules, self.units, self.clock, self.poll_seconds = rules, units, clock, poll_seconds

    async def publish_if_new(self) -> bool:
        """Announce the rules in force unless this version (by checksum) was announced before."""
        rules, checksum = self.rules.rules, self.rules.checksum
        async with self.units.begin() as uow:
            if not await uow.repos.published_rules.add(checksum, rules.version):
                return False
            uow.emit(
                RoutingRulesPublished(
                    ruleset=rules.ruleset,
                    rules_version=rules.version,
                    published_at=self.clock(),
                    checksum=checksum,
                    rule_count=len(rules.rules),
                )
            )
        return True

    async def watch(self, stop: asyncio.Event) -> None:
        """The rules watcher: reload the file when it changes and publish each new version, until `stop`."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
            if not stop.is_set() and self.rules.reload_if_changed():
                await self.publish_if_new()
