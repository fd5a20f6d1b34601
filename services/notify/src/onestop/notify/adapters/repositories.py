"""Everything notify keeps, on one connection: what its handlers, sender, clocks and API write through."""

from onestop.notify.adapters.audience import Audience
from onestop.notify.adapters.case_book import CaseBook
from onestop.notify.adapters.notification_queue import NotificationQueue
from onestop.notify.adapters.survey_book import SurveyBook
from onestop.servicekit.database import Connection


class NotifyRepositories:
    def __init__(self, connection: Connection) -> None:
        self.cases = CaseBook(connection)
        self.audience = Audience(connection)
        self.notifications = NotificationQueue(connection)
        self.surveys = SurveyBook(connection)
