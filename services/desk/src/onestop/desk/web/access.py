"""Which staff roles may use which page of the desk. A page a role may not use answers 403; the services
check the token's scopes again, so the desk is never the only guard."""

from enum import StrEnum


class Role(StrEnum):
    ADVISER = "adviser"
    TEAM_LEADER = "team_leader"
    COMPLAINTS_MANAGER = "complaints_manager"
    ANALYST = "analyst"


CASE_WORKERS = frozenset({Role.ADVISER, Role.TEAM_LEADER, Role.COMPLAINTS_MANAGER})
EVERYONE = frozenset(Role)


class Use(StrEnum):
    """What a person does at the desk."""

    FIND_CUSTOMERS = "find customers and see their single view"
    LOG_CONTACT = "log a contact"
    WORK_LISTS = "see the team work lists"
    SEE_CASE = "see a case"
    WORK_CASE = "add notes to, resolve, decline or reopen a case"
    REASSIGN = "reassign a case"
    ESCALATE_COMPLAINT = "escalate a complaint"
    TRACK = "see what a customer sees when tracking"
    TRACE = "see the trace of a contact"


ALLOWED: dict[Use, frozenset[Role]] = {
    Use.FIND_CUSTOMERS: CASE_WORKERS,
    Use.LOG_CONTACT: frozenset({Role.ADVISER, Role.TEAM_LEADER}),
    Use.WORK_LISTS: CASE_WORKERS,
    Use.SEE_CASE: CASE_WORKERS,
    Use.WORK_CASE: CASE_WORKERS,
    # Moving work between teams is a team leader's call.
    Use.REASSIGN: frozenset({Role.TEAM_LEADER}),
    Use.ESCALATE_COMPLAINT: frozenset({Role.TEAM_LEADER, Role.COMPLAINTS_MANAGER}),
    # Public tracking and traces hold no personal data: support staff and analysts may read them too.
    Use.TRACK: EVERYONE,
    Use.TRACE: EVERYONE,
}


class Forbidden(Exception):
    """The signed-in person's roles do not allow this use of the desk."""

    def __init__(self, use: Use) -> None:
        super().__init__(use.value)
        self.use = use


def may(roles: frozenset[str], use: Use) -> bool:
    return bool(ALLOWED[use] & roles)


def check(roles: frozenset[str], use: Use) -> None:
    if not may(roles, use):
        raise Forbidden(use)
