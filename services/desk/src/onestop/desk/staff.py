"""Who is signed in to the desk, and what the services let them do.

The desk is a back end for its front end: the browser holds only a signed session cookie, never a token.
For each call to a service the desk mints a short-lived onestop token for the person signed in, whose
scopes and service areas follow from the roles the identity provider gives them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from onestop.servicekit.auth import AuthSettings, mint_token, process_auth_settings

ADVISER = "adviser"
TEAM_LEADER = "team_leader"
COMPLAINTS_MANAGER = "complaints_manager"
ANALYST = "analyst"
ROLES = frozenset({ADVISER, TEAM_LEADER, COMPLAINTS_MANAGER, ANALYST})

# What each role may do through the services' APIs (scopes in onestop.servicekit.auth). Advisers find the
# customer, log contacts on their behalf (naming their customer record) and act on cases; team leaders also
# assign work, and complaints managers escalate and decide complaints, all of which cases:write covers;
# analysts read the measures.
ADVISER_SCOPES = ("cases:read", "cases:write", "contacts:write", "customers:assert")
SCOPES_BY_ROLE: Mapping[str, tuple[str, ...]] = {
    ADVISER: ADVISER_SCOPES,
    TEAM_LEADER: ADVISER_SCOPES,
    COMPLAINTS_MANAGER: ("cases:read", "cases:write"),
    ANALYST: ("analytics:read",),
}


@dataclass(frozen=True)
class Staff:
    username: str
    display_name: str
    roles: frozenset[str]
    # The service areas whose cases they work; empty: every area.
    service_areas: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def scopes(self) -> list[str]:
        return sorted({scope for role in self.roles for scope in SCOPES_BY_ROLE.get(role, ())})

    def to_session(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "roles": sorted(self.roles),
            "service_areas": sorted(self.service_areas),
        }

    @classmethod
    def from_session(cls, data: Mapping[str, Any]) -> "Staff":
        return cls(
            username=str(data["username"]),
            display_name=str(data["display_name"]),
            roles=frozenset(data["roles"]) & ROLES,
            service_areas=frozenset(data["service_areas"]),
        )


def staff_from_claims(claims: Mapping[str, Any], area_group_prefix: str = "/service-areas/") -> Staff:
    """The person an ID token names. Roles come from its `roles` claim (the realm roles) or Keycloak's
    `realm_access.roles`; service areas from membership of the groups under /service-areas/."""
    realm_access = claims.get("realm_access")
    roles: Iterable[Any] = claims.get("roles") or (
        realm_access.get("roles", []) if isinstance(realm_access, dict) else []
    )
    groups = [str(group) for group in claims.get("groups") or []]
    username = str(claims.get("preferred_username") or claims["sub"])
    return Staff(
        username=username,
        display_name=str(claims.get("name") or username),
        roles=frozenset(str(role) for role in roles) & ROLES,
        service_areas=frozenset(
            group.removeprefix(area_group_prefix) for group in groups if group.startswith(area_group_prefix)
        ),
    )


def service_token(
    staff: Staff, lifetime: timedelta = timedelta(minutes=5), settings: AuthSettings | None = None
) -> str:
    """A bearer token for the services, good for `lifetime`, carrying what `staff`'s roles allow."""
    return mint_token(
        staff.username,
        staff.scopes,
        service_areas=sorted(staff.service_areas),
        kind="agent",
        ttl=lifetime,
        settings=settings or process_auth_settings(),
    )
