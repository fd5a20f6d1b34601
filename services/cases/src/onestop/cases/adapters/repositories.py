"""Every repository the cases use cases write through, built on one connection (the unit of work's)."""

from onestop.cases.adapters.case_store import CaseStore
from onestop.cases.adapters.command_log import CommandLog
from onestop.cases.adapters.customer_records import CustomerRecords
from onestop.cases.adapters.pending_links import PendingLinks
from onestop.cases.domain.search_terms import BlindIndex
from onestop.servicekit.database import Connection


class CaseRepositories:
    def __init__(self, connection: Connection, index: BlindIndex) -> None:
        self.cases = CaseStore(connection, index)
        self.pending_links = PendingLinks(connection)
        self.commands = CommandLog(connection)
        self.customers = CustomerRecords(connection)
