"""One email address as a customer gives it: `name@example.org` and nothing more.

Replies go to it, so a list, a display name or a line break (which could add headers of its own to a
message, such as a Bcc) is refused with the reason rather than tidied up.
"""

import re

LONGEST = 254  # the longest forward path a mail server must accept (RFC 5321)
LONGEST_LOCAL_PART = 64
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")


def one_email_address(given: str) -> str:
    """`given` without surrounding spaces, if it is one plain address; ValueError saying why not."""
    if any(character in given for character in "\r\n\0"):
        raise ValueError("must be on one line")
    address = given.strip()
    if any(separator in address for separator in ",;"):
        raise ValueError("must be one address, not a list")
    if any(character in address for character in '<>"() '):
        raise ValueError("must be the address alone, without a name, quotes or brackets")
    if len(address) > LONGEST:
        raise ValueError(f"must be at most {LONGEST} characters")
    if not _ADDRESS.fullmatch(address) or len(address.rpartition("@")[0]) > LONGEST_LOCAL_PART:
        raise ValueError("is not an email address such as name@example.org")
    return address
