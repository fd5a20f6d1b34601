"""The Case aggregate: its state comes only from its own events; commands check the rules and return
new events, never touching I/O.

    raised -> handed off -> accepted -> in progress -> resolved | declined -> closed (-> reopened)
    raised -> resolved at first contact (One & Done) -> closed
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from onestop.cases.domain.sla import AGED_30_DAYS, AGED_60_DAYS, WorkingCalendar
from onestop.contracts.events.back_office import HandOffAccepted, HandOffRejected, ProgressReported, WorkCompleted
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseAccepted,
    CaseChased,
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseHandedOff,
    CaseOutcome,
    CaseProgressUpdated,
    CaseRaised,
    CaseReassigned,
    CaseReopened,
    CaseResolved,
    ComplaintDetails,
    ComplaintDetailsRecorded,
    ComplaintReferredToOmbudsman,
    ComplaintStage,
    EscalationReason,
    NoteAdded,
    ReporterLinked,
)
from onestop.contracts.events.common import Actor, Channel, CustomerDetails, HandOffModel, NeedKind
from onestop.contracts.events.routing import NeedRouted
from onestop.contracts.identifiers import case_reference_for

SYSTEM = Actor(kind="system", id="onestop-cases")
# What stands for a back office's words that were sealed for a customer since erased.
ERASED_TEXT = "(not kept: the customer's personal data was erased)"
AGE_ROLES = ("senior_manager", "portfolio_holder")


class CaseStatus(StrEnum):
    RAISED = "raised"
    HANDED_OFF = "handed_off"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DECLINED = "declined"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({CaseStatus.RAISED, CaseStatus.HANDED_OFF, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS})


class CaseRuleBroken(Exception):
    """A command that the case's rules do not allow in its present state; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ComplaintPolicy:
    """Who owns each complaint stage, how many working days they have, and the ombudsman after stage 2."""

    owners: dict[ComplaintStage, str] = field(
        default_factory=lambda: {
            ComplaintStage.INFORMAL: "team_leader",
            ComplaintStage.STAGE_1: "complaint_owner",
            ComplaintStage.STAGE_2: "director",
        }
    )
    working_days: dict[ComplaintStage, int] = field(
        default_factory=lambda: {ComplaintStage.INFORMAL: 10, ComplaintStage.STAGE_1: 10, ComplaintStage.STAGE_2: 20}
    )
    ombudsman: str = "LGSCO"
    # Leads a complaint that spans several services, below the director's stage 2.
    corporate_lead: str = "corporate_complaints_manager"

    def owner(self, stage: ComplaintStage, complaint: ComplaintDetails | None) -> str:
        spans_services = complaint is not None and len(set(complaint.services_involved)) > 1
        if spans_services and stage is not ComplaintStage.STAGE_2:
            return self.corporate_lead
        return self.owners[stage]

    def next_stage(self, stage: ComplaintStage | None) -> ComplaintStage | None:
        order = [ComplaintStage.INFORMAL, ComplaintStage.STAGE_1, ComplaintStage.STAGE_2]
        if stage is None:
            return ComplaintStage.INFORMAL
        index = order.index(stage)
        return order[index + 1] if index + 1 < len(order) else None


@dataclass
class Case:
    case_id: UUID
    version: int = 0
    reference: str = ""
    status: CaseStatus | None = None
    contact_id: UUID | None = None
    need_id: UUID | None = None
    channel: Channel | None = None
    kind: NeedKind | None = None
    service_code: str = ""
    service_area: str = ""
    team: str = ""
    owner: str | None = None
    hand_off_model: HandOffModel | None = None
    customer: CustomerDetails | None = None
    # Whose key seals the personal data of every event of the case: its customer, or its contact's subject.
    data_subject: UUID | None = None
    raised_at: datetime | None = None
    sla_due_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: CaseOutcome | None = None
    work_item_id: str | None = None
    complaint: ComplaintDetails | None = None
    complaint_stage: ComplaintStage | None = None
    complaint_due_at: datetime | None = None
    referred_to_ombudsman: str | None = None
    escalations: set[str] = field(default_factory=set)
    reporters: set[UUID] = field(default_factory=set)
    resolved_at: datetime | None = None
    hand_off: CaseHandedOff | None = None  # the latest, which a reopening repeats

    # --- state: only events change it ---------------------------------------------------------

    @classmethod
    def from_history(cls, case_id: UUID, events: Iterable[Event]) -> "Case":
        case = cls(case_id)
        for event in events:
            case.apply(event)
        return case

    def apply(self, event: Event) -> None:
        self.version += 1
        match event:
            case CaseRaised():
                self.reference, self.contact_id, self.need_id = event.reference, event.contact_id, event.need_id
                self.channel, self.kind, self.service_code = event.channel, event.kind, event.service_code
                self.service_area, self.customer, self.raised_at = event.service_area, event.customer, event.raised_at
                self.data_subject = event.personal_subject()
                self.complaint = event.complaint
                self.status = CaseStatus.RAISED
            case CaseHandedOff():
                self.hand_off_model, self.team, self.sla_due_at = event.hand_off_model, event.team, event.sla_due_at
                self.hand_off = event
                self.status = CaseStatus.HANDED_OFF
            case CaseAccepted():
                self.work_item_id = event.work_item_id
                self.status = CaseStatus.ACCEPTED
            case CaseProgressUpdated():
                self.status = CaseStatus.IN_PROGRESS
            case CaseResolved():
                self.status, self.resolved_at = CaseStatus.RESOLVED, event.resolved_at
            case CaseDeclined():
                self.status, self.resolved_at = CaseStatus.DECLINED, event.declined_at
            case CaseClosed():
                self.status, self.closed_at, self.outcome = CaseStatus.CLOSED, event.closed_at, event.outcome
            case CaseReopened():
                self.status, self.closed_at, self.outcome = CaseStatus.HANDED_OFF, None, None
                self.escalations = {e for e in self.escalations if e.startswith("complaint:")}
            case CaseReassigned():
                self.team, self.owner = event.team, event.owner
                if event.rerouted:
                    self.status, self.work_item_id = CaseStatus.HANDED_OFF, None
            case CaseEscalated():
                key = event.reason.value
                if event.reason is EscalationReason.COMPLAINT_STAGE and event.complaint_stage is not None:
                    key = f"complaint:{event.complaint_stage.value}"
                    self.complaint_stage, self.complaint_due_at = event.complaint_stage, event.due_at
                self.escalations.add(key)
            case ReporterLinked():
                self.reporters.add(event.contact_id)
            case ComplaintDetailsRecorded():
                self.complaint = event.complaint
            case ComplaintReferredToOmbudsman():
                self.referred_to_ombudsman = event.ombudsman
            case NoteAdded() | CaseChased():
                pass

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def _require_open(self, action: str) -> None:
        if not self.exists:
            raise CaseRuleBroken(f"cannot {action}: the case does not exist")
        if not self.is_open:
            raise CaseRuleBroken(f"cannot {action}: the case is {self.status}")

    # --- commands: check the rules, return what happened ---------------------------------------

    @staticmethod
    def raise_from(decision: NeedRouted, calendar: WorkingCalendar) -> list[Event]:
        """A routed need becomes a case: handed off with its due time, or resolved on the spot.

        The case is raised, and a first-contact resolution made, when the contact was received (the
        council's time, not the moment routing got to it), so each is counted in the month it happened.
        A case resolved on the spot had no service standard to meet: its closure has no verdict on one."""
        need = decision.need
        reference = case_reference_for(decision.case_id)
        complaint = None
        if need.kind is NeedKind.COMPLAINT:
            complaint = ComplaintDetails(
                lead_service_area=decision.service_area, services_involved=(decision.service_area,)
            )
        raised = CaseRaised(
            case_id=decision.case_id,
            reference=reference,
            raised_at=decision.received_at,
            contact_id=decision.contact_id,
            need_id=need.need_id,
            channel=decision.channel,
            kind=need.kind,
            service_code=decision.service_code,
            service_area=decision.service_area,
            description=need.description,
            location=need.location,
            customer=decision.customer,
            priority=decision.priority,
            complaint=complaint,
            attachments=need.attachments,
        )
        events: list[Event] = [raised]
        one_and_done = decision.hand_off_model is HandOffModel.ONE_AND_DONE or need.resolved_at_first_contact
        if one_and_done and need.kind is not NeedKind.COMPLAINT:
            events.append(
                CaseResolved(
                    case_id=decision.case_id,
                    resolved_at=decision.received_at,
                    outcome=need.resolution or "Resolved at the first point of contact.",
                    resolved_by=SYSTEM,
                    at_first_contact=True,
                    data_subject=decision.personal_subject(),
                )
            )
            events.append(
                CaseClosed(
                    case_id=decision.case_id,
                    closed_at=decision.received_at,
                    outcome=CaseOutcome.RESOLVED,
                    service_area=decision.service_area,
                )
            )
            return events
        due = calendar.due_by(decision.received_at, decision.sla_working_days)
        events.append(
            CaseHandedOff(
                case_id=decision.case_id,
                reference=reference,
                handed_off_at=decision.routed_at,
                hand_off_model=decision.hand_off_model,
                service_code=decision.service_code,
                service_area=decision.service_area,
                team=decision.team,
                sla_due_at=due,
                priority=decision.priority,
                summary=need.description,
                location=need.location,
                rule_id=decision.rule_id,
                attachments=need.attachments,
                data_subject=decision.personal_subject(),
            )
        )
        return events

    def accept(self, report: HandOffAccepted) -> list[Event]:
        self._require_open("accept the hand-off")
        if self.status is not CaseStatus.HANDED_OFF:
            raise CaseRuleBroken(f"cannot accept the hand-off: the case is already {self.status}")
        return [
            CaseAccepted(
                case_id=self.case_id,
                accepted_at=report.accepted_at,
                system=report.system,
                work_item_id=report.work_item_id,
                expected_by=report.expected_by,
            )
        ]

    def report_progress(
        self, note: str | None, at: datetime, public: bool = True, expected_by: datetime | None = None
    ) -> list[Event]:
        self._require_open("report progress")
        return [
            CaseProgressUpdated(
                case_id=self.case_id,
                updated_at=at,
                note=note,
                public=public,
                expected_by=expected_by,
                data_subject=self.data_subject,
            )
        ]

    def complete(self, report: WorkCompleted) -> list[Event]:
        """The back office finished: the case resolves (or is declined) and closes with it."""
        self._require_open("complete the work")
        actor = Actor(kind="system", id=report.system)
        if report.declined:
            return self.decline(report.outcome or ERASED_TEXT, actor, report.completed_at)
        return self.resolve(report.outcome or ERASED_TEXT, actor, report.completed_at)

    def resolve(self, outcome: str, by: Actor, at: datetime) -> list[Event]:
        self._require_open("resolve the case")
        return [
            CaseResolved(
                case_id=self.case_id, resolved_at=at, outcome=outcome, resolved_by=by, data_subject=self.data_subject
            ),
            self._closing(at, CaseOutcome.RESOLVED),
        ]

    def decline(self, reason: str, by: Actor, at: datetime, policy_reference: str | None = None) -> list[Event]:
        self._require_open("decline the case")
        if not reason.strip():
            raise CaseRuleBroken("a declined case needs a reason the customer can be given")
        declined = CaseDeclined(
            case_id=self.case_id,
            declined_at=at,
            reason=reason,
            declined_by=by,
            policy_reference=policy_reference,
            data_subject=self.data_subject,
        )
        return [declined, self._closing(at, CaseOutcome.DECLINED)]

    def withdraw(self, at: datetime) -> list[Event]:
        self._require_open("withdraw the case")
        return [self._closing(at, CaseOutcome.WITHDRAWN)]

    def _closing(self, at: datetime, outcome: CaseOutcome) -> CaseClosed:
        within = None if self.sla_due_at is None else at <= self.sla_due_at
        return CaseClosed(
            case_id=self.case_id, closed_at=at, outcome=outcome, service_area=self.service_area, within_sla=within
        )

    def reopen(self, reason: str, by: Actor, at: datetime, window: timedelta) -> list[Event]:
        if self.status is not CaseStatus.CLOSED or self.closed_at is None:
            raise CaseRuleBroken(f"cannot reopen: the case is {self.status or 'not raised'}, not closed")
        if at - self.closed_at > window:
            raise CaseRuleBroken(f"cannot reopen: closed more than {window.days} days ago; raise a new request")
        reopened: list[Event] = [
            CaseReopened(
                case_id=self.case_id, reopened_at=at, reason=reason, reopened_by=by, data_subject=self.data_subject
            )
        ]
        if self.hand_off is not None:
            # The owning team gets the work again, with as long to do it as it had the first time.
            allowed = self.hand_off.sla_due_at - self.hand_off.handed_off_at
            reopened.append(
                self.hand_off.model_copy(
                    update={"handed_off_at": at, "sla_due_at": at + allowed, "team": self.team or self.hand_off.team}
                )
            )
        return reopened

    def add_note(self, text: str, author: Actor, at: datetime, internal: bool = True) -> list[Event]:
        if not self.exists:
            raise CaseRuleBroken("cannot add a note: the case does not exist")
        return [
            NoteAdded(
                case_id=self.case_id,
                note_id=uuid4(),
                added_at=at,
                author=author,
                text=text,
                internal=internal,
                data_subject=self.data_subject,
            )
        ]

    def reassign(
        self, team: str, at: datetime, owner: str | None = None, reason: str = "", rerouted: bool = False
    ) -> list[Event]:
        self._require_open("reassign the case")
        if team == self.team and owner == self.owner:
            raise CaseRuleBroken(f"the case is already with {team}")
        return [
            CaseReassigned(
                case_id=self.case_id,
                reassigned_at=at,
                team=team,
                owner=owner,
                previous_team=self.team or None,
                reason=reason,
                rerouted=rerouted,
                data_subject=self.data_subject,
            )
        ]

    def reject_hand_off(self, report: HandOffRejected, triage_team: str) -> list[Event]:
        """The back office says it is not theirs: re-route (a wrongly routed contact, for NI14)."""
        self._require_open("re-route the case")
        return self.reassign(
            report.suggested_team or triage_team, report.rejected_at, reason=report.reason or "", rerouted=True
        )

    def link_reporter(
        self, contact_id: UUID, need_id: UUID, customer: CustomerDetails | None, at: datetime
    ) -> list[Event]:
        if not self.exists:
            raise CaseRuleBroken("cannot link a reporter: the case does not exist")
        if contact_id in self.reporters or contact_id == self.contact_id:
            return []
        return [
            ReporterLinked(
                case_id=self.case_id, linked_at=at, contact_id=contact_id, need_id=need_id, customer=customer
            )
        ]

    def record_chase(self, contact_id: UUID, channel: Channel, at: datetime) -> list[Event]:
        """A customer chased this case: recorded, and its Customer Advocate is alerted."""
        if not self.exists:
            raise CaseRuleBroken("cannot record a chase: the case does not exist")
        events: list[Event] = [CaseChased(case_id=self.case_id, chased_at=at, contact_id=contact_id, channel=channel)]
        if self.is_open and self.hand_off_model is HandOffModel.CUSTOMER_ADVOCATE:
            events.append(self._escalation(EscalationReason.CHASED, at, ("customer_advocate", "team_leader")))
        return events

    def escalations_due(self, now: datetime) -> list[Event]:
        """Age and service-level escalations that are due and not yet made: each happens once."""
        if not self.is_open or self.raised_at is None:
            return []
        due: list[Event] = []
        age = now - self.raised_at
        if age >= AGED_30_DAYS and EscalationReason.AGED_30_DAYS.value not in self.escalations:
            due.append(self._escalation(EscalationReason.AGED_30_DAYS, now, AGE_ROLES))
        if age >= AGED_60_DAYS and EscalationReason.AGED_60_DAYS.value not in self.escalations:
            due.append(self._escalation(EscalationReason.AGED_60_DAYS, now, (*AGE_ROLES, "chief_executive")))
        if self.sla_due_at and now > self.sla_due_at and EscalationReason.SLA_BREACHED.value not in self.escalations:
            due.append(self._escalation(EscalationReason.SLA_BREACHED, now, ("team_leader",)))
        return due

    def escalate_complaint(self, now: datetime, calendar: WorkingCalendar, policy: ComplaintPolicy) -> list[Event]:
        """Informal -> stage 1 -> stage 2, each with its owner and deadline."""
        self._require_open("escalate the complaint")
        if self.kind is not NeedKind.COMPLAINT:
            raise CaseRuleBroken("only a complaint has stages")
        stage = policy.next_stage(self.complaint_stage)
        if stage is None:
            raise CaseRuleBroken("the complaint is already at stage 2, the last stage")
        return [self._complaint_stage(stage, now, calendar, policy)]

    def overdue_complaint_stage(self, now: datetime, calendar: WorkingCalendar, policy: ComplaintPolicy) -> list[Event]:
        """A complaint stage not answered by its deadline goes up to the next stage, once per stage."""
        if not self.is_open or self.complaint_due_at is None or now <= self.complaint_due_at:
            return []
        stage = policy.next_stage(self.complaint_stage)
        if stage is None:
            return []  # stage 2 is the last: what remains is the ombudsman
        return [self._complaint_stage(stage, now, calendar, policy)]

    def record_complaint_details(
        self,
        now: datetime,
        services_involved: Iterable[str],
        about_contractor: str | None,
        via_councillor: str | None,
    ) -> list[Event]:
        """The services a complaint spans (its own always among them), a contractor, a councillor.

        A complaint found to span several services is led by the corporate complaints manager from its next
        stage on."""
        if not self.exists or self.kind is not NeedKind.COMPLAINT:
            raise CaseRuleBroken("only a complaint has complaint details")
        services = tuple(dict.fromkeys([self.service_area, *services_involved]))
        details = ComplaintDetails(
            lead_service_area=self.service_area,
            services_involved=services,
            about_contractor=about_contractor,
            via_councillor=via_councillor,
        )
        return [
            ComplaintDetailsRecorded(
                case_id=self.case_id,
                recorded_at=now,
                service_area=self.service_area,
                complaint=details,
                data_subject=self.data_subject,
            )
        ]

    def refer_to_ombudsman(self, now: datetime, policy: ComplaintPolicy, reference: str | None) -> list[Event]:
        """Recorded once, after stage 2 (whether or not the case has been closed since)."""
        if not self.exists or self.kind is not NeedKind.COMPLAINT:
            raise CaseRuleBroken("only a complaint can be referred to the ombudsman")
        if self.complaint_stage is not ComplaintStage.STAGE_2:
            raise CaseRuleBroken("a complaint goes to the ombudsman only after stage 2")
        if self.referred_to_ombudsman is not None:
            raise CaseRuleBroken(f"the complaint is already referred to the {self.referred_to_ombudsman}")
        return [
            ComplaintReferredToOmbudsman(
                case_id=self.case_id,
                referred_at=now,
                ombudsman=policy.ombudsman,
                service_area=self.service_area,
                ombudsman_reference=reference,
            )
        ]

    def start_complaint(self, now: datetime, calendar: WorkingCalendar, policy: ComplaintPolicy) -> list[Event]:
        """A complaint starts at the informal stage with its owner and deadline."""
        if self.kind is not NeedKind.COMPLAINT or self.complaint_stage is not None:
            return []
        return [self._complaint_stage(ComplaintStage.INFORMAL, now, calendar, policy)]

    def _complaint_stage(
        self, stage: ComplaintStage, now: datetime, calendar: WorkingCalendar, policy: ComplaintPolicy
    ) -> CaseEscalated:
        owner = policy.owner(stage, self.complaint)
        return self._escalation(
            EscalationReason.COMPLAINT_STAGE,
            now,
            (owner,),
            complaint_stage=stage,
            owner_role=owner,
            due_at=calendar.due_by(now, policy.working_days[stage]),
        )

    def _escalation(
        self, reason: EscalationReason, at: datetime, to: tuple[str, ...], **extra: object
    ) -> CaseEscalated:
        days_open = max(0, (at - self.raised_at).days) if self.raised_at else 0
        return CaseEscalated(
            case_id=self.case_id,
            escalated_at=at,
            reason=reason,
            escalated_to=to,
            service_area=self.service_area,
            days_open=days_open,
            **extra,
        )

    def progress_from(self, report: ProgressReported) -> list[Event]:
        return self.report_progress(report.note, report.reported_at, report.public, report.expected_by)
