"""Matching a contact to one customer record: a written rule with a confidence.

The rule (strongest evidence first; the first that matches decides):
  - the same email address (case and dots in Gmail-style local parts aside): 0.95
  - the same phone number (UK numbers normalised to +44): 0.90
  - the same UPRN and the same full name: 0.85 (a household shares a UPRN and often a surname, so a
    surname alone would make one person of a family)
  - the same full name and the same postcode: 0.75
A match needs a confidence of at least 0.75; anything weaker creates a new customer record. When the
strongest evidence points at two different records (an email of one, the phone of another), they are
the same person: the older record survives and the other is merged into it. Only details from a verified
customer may merge records: anyone can type someone else's email address next to their own phone number.
"""

import re
from dataclasses import dataclass
from uuid import UUID

MATCH_THRESHOLD = 0.75

_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b")


@dataclass(frozen=True)
class Identity:
    """What a contact tells us about who they are, normalised for matching."""

    email: str | None = None
    phone: str | None = None
    uprn: str | None = None
    name: str | None = None
    postcode: str | None = None

    @property
    def is_empty(self) -> bool:
        return not any((self.email, self.phone, self.uprn, self.name and self.postcode))


@dataclass(frozen=True)
class CustomerRecord:
    customer_id: UUID
    identity: Identity


@dataclass(frozen=True)
class Match:
    customer_id: UUID
    confidence: float
    method: str


def normalise_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+")[0].replace(".", "")
    return f"{local}@{domain}"


def normalise_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = re.sub(r"[^0-9+]", "", phone)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("0"):
        digits = "+44" + digits[1:]
    return digits if len(digits) >= 8 else None


def normalise_name(name: str | None) -> str | None:
    if not name:
        return None
    words = re.sub(r"[^a-z\s'-]", "", name.lower()).split()
    titles = {"mr", "mrs", "ms", "miss", "dr", "mx", "prof", "rev"}
    return " ".join(w for w in words if w not in titles) or None


def postcode_in(address: str | None) -> str | None:
    if not address:
        return None
    found = _POSTCODE.search(address.upper())
    return f"{found.group(1)} {found.group(2)}" if found else None


def identity_of(
    email: str | None, phone: str | None, uprn: str | None, name: str | None, address: str | None
) -> Identity:
    return Identity(normalise_email(email), normalise_phone(phone), uprn, normalise_name(name), postcode_in(address))


def evidence(candidate: Identity, record: Identity) -> tuple[float, str] | None:
    if candidate.email and candidate.email == record.email:
        return 0.95, "email"
    if candidate.phone and candidate.phone == record.phone:
        return 0.90, "phone"
    if candidate.uprn and candidate.uprn == record.uprn and candidate.name and candidate.name == record.name:
        return 0.85, "uprn_and_name"
    if candidate.name and candidate.postcode and (candidate.name, candidate.postcode) == (record.name, record.postcode):
        return 0.75, "name_and_postcode"
    return None


def best_matches(candidate: Identity, records: list[CustomerRecord]) -> list[Match]:
    """Every record the rule matches, strongest first (ties: the oldest record first, as given)."""
    matches = []
    for record in records:
        found = evidence(candidate, record.identity)
        if found and found[0] >= MATCH_THRESHOLD:
            matches.append(Match(record.customer_id, *found))
    return sorted(matches, key=lambda m: -m.confidence)


def to_merge(matches: list[Match], verified: bool) -> list[UUID]:
    """The records the strongest evidence says are the same person as the best match, merged into it."""
    if not matches or not verified:
        return []
    best = matches[0]
    return sorted({m.customer_id for m in matches if m.confidence >= 0.9} - {best.customer_id}, key=str)
