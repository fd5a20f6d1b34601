"""Who hears what, how, and who is asked for feedback: pure rules with no I/O."""

import hashlib
from dataclasses import dataclass
from uuid import UUID

from onestop.contracts.events.common import ContactMethod

# When a method fails for good, try the next one the customer consented to, ending with a letter.
FALLBACK_ORDER = (ContactMethod.EMAIL, ContactMethod.SMS, ContactMethod.APP, ContactMethod.LETTER)


@dataclass(frozen=True)
class Reachability:
    """How a person can be reached: their preference, consents and addresses per method."""

    preferred: ContactMethod
    consents: frozenset[ContactMethod]
    addresses: dict[ContactMethod, str]

    def method(self, excluding: frozenset[ContactMethod] = frozenset()) -> tuple[ContactMethod, str] | None:
        """The preferred method if possible, else the next in fallback order; None if nothing is left."""
        for method in (self.preferred, *FALLBACK_ORDER):
            if method in excluding or method not in self.consents:
                continue
            address = self.addresses.get(method)
            if address:
                return method, address
        return None


def in_sample(case_id: UUID, rate: float) -> bool:
    """Deterministic: the same case is always in or out, and about `rate` of all cases are in."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(case_id.bytes).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def sample_rate(rates: dict[str, float], service_area: str) -> float:
    return rates.get(service_area, rates.get("*", 0.0))


def retry_delay(attempts: int) -> float:
    """Exponential back-off for temporary failures: 1, 2, 4, ... seconds, at most five minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


def notification_key(trigger_event_id: UUID, recipient_id: str, template: str) -> str:
    return f"{trigger_event_id}:{recipient_id}:{template}"


def out_of_attempts(attempts: int, max_attempts: int) -> bool:
    """A claim counts as an attempt (it may have reached the provider); past the limit, stop trying."""
    return attempts > max_attempts
