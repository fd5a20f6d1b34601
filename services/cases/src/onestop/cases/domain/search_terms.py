"""Blind index terms: what a case can be found by, as keyed hashes, so that sealed personal data stays sealed.

A case's words (the customer's name, address and postcode, the place of the problem, the description) and
its contact details (email address, phone number) are normalised into tokens, and each token is kept only as
the first 8 bytes of HMAC-SHA256 under the council's search key (a signed 64-bit integer, which PostgreSQL
indexes compactly). A query is normalised the same way, so equal tokens meet without either being stored in
the clear. Without the key a term cannot be tested against a guess; a collision only adds a result.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from onestop.contracts.events.cases import CaseRaised

# Words too common to narrow a search; dropped from the index and from queries alike.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "there",
        "this",
        "to",
        "was",
        "we",
        "were",
        "with",
    ]
)
MAX_TERMS_PER_CASE = 200
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_POSTCODE = re.compile(r"\b([a-z]{1,2}[0-9][a-z0-9]?)\s*([0-9][a-z]{2})\b")
_WHOLE_POSTCODE = re.compile(r"^[a-z]{1,2}[0-9][a-z0-9]?[0-9][a-z]{2}$")
_PHONE_LIKE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
_REFERENCE_LIKE = re.compile(r"^OS-?[0-9A-Z]{0,4}(-?[0-9A-Z]{0,4})?$")


def words_of(text: str | None) -> list[str]:
    """Lower-cased words of `text`, stopwords and one-letter words left out, each once, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall((text or "").lower().replace("\u2019", "'")):
        word = word.removesuffix("'s")
        if len(word) > 1 and word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def email_token(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.strip().lower()


def phone_token(phone: str | None) -> str | None:
    """The number's digits in international form (a UK 0 becomes 44), so that `07700 900123`,
    `+44 7700 900123` and `0044 7700 900123` are one token."""
    if not phone:
        return None
    digits = re.sub(r"[^0-9]", "", phone)
    if not phone.strip().startswith("+"):
        if digits.startswith("00"):
            digits = digits[2:]
        elif digits.startswith("0"):
            digits = "44" + digits[1:]
    return digits if len(digits) >= 7 else None


def postcodes_in(text: str | None) -> list[str]:
    """UK postcodes in `text`, lower-cased without their space (`nn11ab`)."""
    return [outward + inward for outward, inward in _POSTCODE.findall((text or "").lower())]


def tokens_of_case(raised: CaseRaised) -> list[str]:
    """Every token a case is found by (its reference is searched in the clear, so it is not here).
    `raised` must be opened: an erased customer's case has no personal fields, so no tokens."""
    tokens: list[str] = []
    customer, location = raised.customer, raised.location
    if customer is not None:
        tokens += [f"w:{word}" for word in words_of(customer.name)]
        tokens += [f"w:{word}" for word in words_of(customer.address)]
        tokens += [f"p:{code}" for code in postcodes_in(customer.address)]
        if email := email_token(customer.email):
            tokens.append(f"e:{email}")
        if phone := phone_token(customer.phone):
            tokens.append(f"t:{phone}")
    if location is not None:
        tokens += [f"w:{word}" for word in words_of(location.address)]
        tokens += [f"p:{code}" for code in postcodes_in(location.address)]
    tokens += [f"w:{word}" for word in words_of(raised.description)]
    return list(dict.fromkeys(tokens))[:MAX_TERMS_PER_CASE]


@dataclass(frozen=True)
class SearchQuery:
    """What a search box's text asks for: a case reference (exact or its beginning), or tokens a case must
    all have."""

    reference_prefix: str | None = None
    tokens: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self.reference_prefix is None and not self.tokens


def parse_query(text: str) -> SearchQuery:
    """Read a query the way a person types one: a reference (`OS-7KQ4-M2XD`, or its start), an email
    address, a phone number, a postcode, or words (a name, a street, words of the description: each must match).
    """
    cleaned = " ".join(text.split())
    upper = cleaned.upper().replace(" ", "")
    if upper.startswith("OS") and _REFERENCE_LIKE.match(upper):
        if len(upper) > 3 and upper[2] != "-":
            upper = f"OS-{upper[2:]}"
        if len(upper) > 7 and upper[7] != "-":
            upper = f"{upper[:7]}-{upper[7:]}"
        return SearchQuery(reference_prefix=upper)
    lower = cleaned.lower()
    if "@" in lower and " " not in lower and (email := email_token(lower)):
        return SearchQuery(tokens=(f"e:{email}",))
    if _PHONE_LIKE.match(cleaned) and (phone := phone_token(cleaned)):
        return SearchQuery(tokens=(f"t:{phone}",))
    squeezed = lower.replace(" ", "")
    if _WHOLE_POSTCODE.match(squeezed):
        return SearchQuery(tokens=(f"p:{squeezed}",))
    return SearchQuery(tokens=tuple(f"w:{word}" for word in words_of(lower)[:MAX_QUERY_WORDS]))


class BlindIndex:
    """Tokens to terms under the council's search key."""

    def __init__(self, key: str) -> None:
        if not key.strip():
            raise ValueError("the search key is empty")
        self._key = key.encode()

    def term(self, token: str) -> int:
        digest = hmac.new(self._key, token.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def terms(self, tokens: Iterable[str]) -> list[int]:
        return list(dict.fromkeys(self.term(token) for token in tokens))
