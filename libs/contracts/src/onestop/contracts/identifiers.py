"""Identifiers every service can derive on its own, so replays and redeliveries agree on them.

A case's id follows from the contact and need it was raised for: routing can name the case it is
creating (and link duplicate reports to it) before cases has recorded it, and a redelivered decision
can never raise a second case. The reference is what a customer reads out on the phone.
"""

from uuid import UUID, uuid5

_CASE_NAMESPACE = UUID("6f1c2a8e-3f47-4d5b-9a0e-2c7d7b1e9a10")
# Crockford's base32 without I, L, O and U: nothing a caller can misread or mishear as another.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def case_id_for(contact_id: UUID, need_id: UUID) -> UUID:
    return uuid5(_CASE_NAMESPACE, f"{contact_id}/{need_id}")


def case_reference_for(case_id: UUID) -> str:
    """`OS-XXXX-XXXX`: 40 bits of the case id, enough to tell a council's cases apart for decades."""
    value = case_id.int >> 88
    characters = []
    for _ in range(8):
        characters.append(_ALPHABET[value & 31])
        value >>= 5
    code = "".join(reversed(characters))
    return f"OS-{code[:4]}-{code[4:]}"
