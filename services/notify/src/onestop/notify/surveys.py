"""Feedback surveys: which closed cases are asked (a sample, and repairs six weeks on), the signed link in
the message, and the answer that comes back through it (once per survey)."""

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from onestop.contracts.events.notifications import FeedbackReceived, FeedbackRequested, SurveyKind
from onestop.contracts.service_catalogue import ServiceCatalogue
from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.addressing import Addressing, Unit
from onestop.notify.domain.model import FollowedCase
from onestop.notify.domain.policy import in_sample, sample_rate
from onestop.notify.settings import NotifySettings
from onestop.servicekit.unit_of_work import UnitsOfWork


class SurveyNotFound(Exception):
    """The link was forged, or its survey was already answered."""


class SurveyAlreadyAnswered(SurveyNotFound):
    """The link is genuine, and its survey has its answer."""


class Surveys:
    def __init__(
        self,
        settings: NotifySettings,
        catalogue: ServiceCatalogue,
        addressing: Addressing,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings, self.catalogue, self.addressing, self.clock = settings, catalogue, addressing, clock

    async def on_close(self, uow: Unit, case: FollowedCase, closed_at: datetime) -> None:
        """Ask a sample now; plan a repair's follow-up for later."""
        if in_sample(case.case_id, sample_rate(self.settings.notify_feedback_sample_rates, case.service_area)):
            await self.ask(uow, case, SurveyKind.ON_CLOSE, closed_at)
        service = self.catalogue.service(case.service_code)
        if service is not None and service.repair:
            due = closed_at + timedelta(days=self.settings.notify_repair_follow_up_days)
            await uow.repos.surveys.plan(uuid4(), case.case_id, SurveyKind.REPAIR_FOLLOW_UP, case.service_area, due)

    async def ask(
        self, uow: Unit, case: FollowedCase, kind: SurveyKind, due: datetime, survey_id: UUID | None = None
    ) -> None:
        """Send the customer the survey's link, and record that they were asked."""
        survey_id = await uow.repos.surveys.mark_requested(
            survey_id or uuid4(), case.case_id, kind, case.service_area, due
        )
        survey_url = f"{self.settings.notify_public_base_url}/feedback/{self.token(survey_id)}"
        if (case.customer or {}).get("language") == "cy":
            survey_url += "?lang=cy"  # the page opens in the language the customer chose
        context = {
            "survey_url": survey_url,
            "follow_up": kind is SurveyKind.REPAIR_FOLLOW_UP,
        }
        requested = await self.addressing.to_customer(uow, case, "feedback_request", context, key_trigger=survey_id)
        if requested:
            uow.emit(
                FeedbackRequested(
                    survey_id=survey_id,
                    case_id=case.case_id,
                    requested_at=self.clock(),
                    survey=kind,
                    service_area=case.service_area,
                    recipient=requested[0].recipient,
                )
            )

    async def ask_due_follow_ups(self, uow: Unit) -> int:
        """Ask about repairs whose six weeks are up (the clock is injected, so tests run at any date)."""
        now = self.clock()
        due = await uow.repos.surveys.claim_due_follow_ups(now)
        for survey_id, case_id in due:
            case = await uow.repos.cases.get(case_id)
            if case is not None:
                await self.ask(uow, case, SurveyKind.REPAIR_FOLLOW_UP, now, survey_id)
        return len(due)

    def token(self, survey_id: UUID) -> str:
        secret = self.settings.notify_survey_secret.encode()
        signature = hmac.new(secret, survey_id.bytes, hashlib.sha256).hexdigest()[:32]
        return f"{survey_id}.{signature}"

    def survey_of(self, token: str) -> UUID:
        try:
            survey_id = UUID(token.partition(".")[0])
        except ValueError as exc:
            raise SurveyNotFound(token) from exc
        if not hmac.compare_digest(self.token(survey_id), token):
            raise SurveyNotFound(token)
        return survey_id

    async def check_open(self, uow: Unit, token: str) -> UUID:
        """The survey of a genuine link still waiting for its answer; raises SurveyNotFound otherwise."""
        survey_id = self.survey_of(token)
        answered = await uow.repos.surveys.answered(survey_id)
        if answered is None:
            raise SurveyNotFound(token)
        if answered:
            raise SurveyAlreadyAnswered(token)
        return survey_id

    async def record_answer(self, uow: Unit, token: str, satisfied: bool, score: int, comment: str) -> FeedbackReceived:
        survey_id = self.survey_of(token)
        answered = await uow.repos.surveys.answer(survey_id)
        if answered is None:
            await self.check_open(uow, token)  # says whether it was answered before or never existed
            raise SurveyNotFound(token)
        case_id, service_area = answered
        case = await uow.repos.cases.get(case_id)
        answer = FeedbackReceived(
            survey_id=survey_id,
            case_id=case_id,
            received_at=self.clock(),
            service_area=service_area,
            satisfied=satisfied,
            score=score,
            comment=comment,
            data_subject=case.data_subject if case else None,
        )
        uow.emit(answer)
        return answer


class FollowUpClock:
    """Asks the repair follow-ups that fell due, every `every` seconds while the service runs."""

    def __init__(self, units: UnitsOfWork[NotifyRepositories], surveys: Surveys, every: float = 60) -> None:
        self.units, self.surveys, self.every = units, surveys, every

    async def tick(self) -> int:
        """Ask what is due now; returns how many surveys were asked."""
        async with self.units.begin() as uow:
            return await self.surveys.ask_due_follow_ups(uow)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every)
