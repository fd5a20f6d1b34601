"""The rules file: the rules in force, reloaded when the file changes; an invalid file leaves the last good rules."""

import logging
from pathlib import Path

from onestop.contracts.service_catalogue import ServiceCatalogue
from onestop.routing.domain.rules import parse_rules

log = logging.getLogger(__name__)


class RulesFile:
    def __init__(self, path: Path, catalogue: ServiceCatalogue) -> None:
        self.path = path
        self.catalogue = catalogue
        self.rules, self.checksum = parse_rules(path.read_text(), catalogue)
        self._mtime = path.stat().st_mtime_ns
        self.last_error: str | None = None

    def reload_if_changed(self, force: bool = False) -> bool:
        """Read the file again if it changed (or `force`); True when the rules in force changed."""
        mtime = self.path.stat().st_mtime_ns
        if mtime == self._mtime and not force:
            return False
        self._mtime = mtime
        try:
            rules, checksum = parse_rules(self.path.read_text(), self.catalogue)
        except Exception as exc:
            self.last_error = f"{self.path.name} is invalid, keeping version {self.rules.version}: {exc}"
            log.error(self.last_error)
            return False
        self.last_error = None
        changed = checksum != self.checksum
        self.rules, self.checksum = rules, checksum
        return changed
