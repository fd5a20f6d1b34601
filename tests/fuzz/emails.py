"""Hypothesis strategies for what reaches the mail room: well-formed emails with awkward parts, and raw bytes."""

from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8

from hypothesis import strategies as st

# Text a sender might put anywhere, control characters and all.
anything = st.text(st.characters(codec="utf-8"), max_size=200)
header_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=120)
charsets = st.sampled_from(["utf-8", "iso-8859-1", "windows-1252", "us-ascii", "x-unknown-charset", "utf-16"])
media_types = st.sampled_from(["image/png", "image/jpeg", "application/pdf", "text/plain", "application/x-msdownload"])
dates = st.one_of(
    st.datetimes().map(lambda moment: moment.strftime("%a, %d %b %Y %H:%M:%S -0000")),
    st.sampled_from(["Mon, 31 Dec 9999 23:59:59 -2359", "Thu, 1 Jan 1970 00:00:00 +0000", "yesterday", ""]),
    header_text,
)


@st.composite
def emails(draw: st.DrawFn) -> bytes:
    """An email as a mail client would write it, with whatever a sender (or a spammer) can put in its parts."""
    message = EmailMessage()
    address = draw(st.sampled_from(["pat@example.org", "not-an-address", "a@b", "", "x@y.z"]))
    try:
        message["From"] = f"{draw(header_text)} <{address}>" if draw(st.booleans()) else address
    except (ValueError, TypeError, AttributeError, IndexError):  # the library's own header parser gives up
        message["From"] = address
    for name in ("Subject", "Date", "Message-ID", "In-Reply-To", "X-Onestop-Channel"):
        if draw(st.booleans()):
            value = draw(dates) if name == "Date" else draw(header_text)
            try:
                message[name] = value
            except (ValueError, TypeError, AttributeError, IndexError):
                pass  # the email library itself refuses to write it
    charset = draw(charsets)
    text = draw(anything)
    try:
        message.set_content(text, charset=charset if charset != "x-unknown-charset" else "utf-8")
    except (LookupError, UnicodeError):
        message.set_content(text)
    if charset == "x-unknown-charset":
        message.replace_header("Content-Type", 'text/plain; charset="x-unknown-charset"')
    for _ in range(draw(st.integers(0, 2))):
        maintype, subtype = draw(media_types).split("/")
        filename = draw(st.one_of(st.none(), header_text))
        content = draw(st.binary(max_size=300))
        try:
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
        except (ValueError, TypeError):
            message.add_attachment(content, maintype=maintype, subtype=subtype)
    if message.is_multipart():
        message.set_boundary("==boundary==")  # else the library picks one at random, out of Hypothesis's sight
    for writing in (SMTP, SMTPUTF8):  # 7-bit where it can be, else UTF-8 headers as modern mail has them
        try:
            return message.as_bytes(policy=writing)
        except (ValueError, TypeError, UnicodeError):
            continue
    return draw(st.binary(max_size=200))


@st.composite
def hand_written(draw: st.DrawFn) -> bytes:
    """Header lines written without the library, as a careless or hostile sender might: address syntax the
    library's own parser trips over (groups, unclosed brackets, stray colons) and any bytes in between."""
    address_syntax = st.text(st.sampled_from(list('<>@:;,."\\()= ?abc')), max_size=30)
    lines = [b"From: " + draw(st.one_of(address_syntax, header_text)).encode("utf-8")]
    for name in draw(st.lists(st.sampled_from(["Subject", "Date", "Message-ID", "References", "Content-Type"]))):
        lines.append(name.encode() + b": " + draw(st.one_of(address_syntax, header_text)).encode("utf-8"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + draw(st.binary(max_size=200))


# What the mail room may be handed: a real email, an email cut short or spliced with noise, or any bytes.
raw_messages = st.one_of(
    emails(),
    hand_written(),
    st.tuples(emails(), st.integers(0, 2000), st.binary(max_size=200)).map(lambda t: t[0][: t[1]] + t[2]),
    st.binary(max_size=2000),
)
