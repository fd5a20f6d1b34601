"""schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS): how to send a raw email, and
where to aim.

Besides what schemathesis draws from each schema, half the requests carry a known id (FUZZ_KNOWN_IDS, JSON:
path parameter name to values), so an operation's work starts after its "not found"; and half have one
value swapped for an old enemy of input handling, as a fuzzer's dictionary has them: NUL and other control
characters, a lone surrogate, a time without a zone or in a far-off year, a number past 64 bits. An Open311
post often carries the key that works (FUZZ_OPEN311_KEY), and the mail room gets emails, broken emails and
noise.
"""

import itertools
import json
import os
import re
from typing import Any

import schemathesis
from hypothesis import strategies as st

from tests.fuzz.emails import raw_messages

KNOWN: dict[str, list[str]] = json.loads(os.environ.get("FUZZ_KNOWN_IDS", "{}"))
OPEN311_KEY = os.environ.get("FUZZ_OPEN311_KEY", "")
_callers = itertools.count(1)

NASTY_TEXT = [
    "\x00",
    "bins\x00again",
    "\x1b[2J",
    "\x7f\x85",
    "\ud800",
    "\ufffe",
    "line\r\nBcc: x@example.org",
    "é" * 5000,
]
NASTY_TIMES = ["2026-03-02T10:00:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+05:00", "9999-12", "0000-01"]
NASTY_NUMBERS = [-1, 2**63, -(2**63) - 1, 2**70, 1e308, -1e308]
NASTY = [*NASTY_TEXT, *NASTY_TIMES, *NASTY_NUMBERS, None]
LOOKS_LIKE_A_TIME = re.compile(r"^\d{4}-\d{2}")


def _nasty_for(value: Any, on_the_wire: bool) -> list[Any]:
    """Old enemies of the kind of value there: a time for a time, text for text, a number for a number."""
    if isinstance(value, bool) or value is None:
        kinds = NASTY
    elif isinstance(value, int | float):
        kinds = NASTY_NUMBERS
    elif isinstance(value, str) and LOOKS_LIKE_A_TIME.match(value):
        kinds = NASTY_TIMES
    else:
        kinds = NASTY_TEXT
    # A URL or a form is UTF-8 on the wire, which a lone surrogate cannot be; only JSON can carry one (escaped).
    return [nasty for nasty in kinds if not (on_the_wire and nasty == "\ud800")]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where a value could be swapped: every leaf of a JSON document (or of a mapping of parameters)."""
    if isinstance(value, dict):
        return [leaf for key, inner in value.items() for leaf in _leaves(inner, (*path, key))] or [path]
    if isinstance(value, list):
        return [leaf for index, inner in enumerate(value) for leaf in _leaves(inner, (*path, index))] or [path]
    return [path]


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _swapped(value: Any, path: tuple[Any, ...], nasty: Any) -> Any:
    if not path:
        return nasty
    head, *rest = path
    if isinstance(value, dict):
        return {**value, head: _swapped(value[head], tuple(rest), nasty)}
    copy = list(value)
    copy[head] = _swapped(copy[head], tuple(rest), nasty)
    return copy


def _with_a_nasty_value(value: Any, on_the_wire: bool = True) -> Any:
    """`value` as drawn, or with one of its leaves swapped for a nasty value of its kind."""
    leaf = st.sampled_from(_leaves(value))
    swap = leaf.flatmap(
        lambda path: st.sampled_from(_nasty_for(_at(value, path), on_the_wire)).map(lambda n: (path, n))
    )
    return st.one_of(st.just(value), swap.map(lambda chosen: _swapped(value, *chosen)))


@schemathesis.serializer("message/rfc822")
def rfc822(context: Any, value: Any) -> bytes:
    """The mail room takes the raw message: whatever was generated goes as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", errors="surrogatepass")


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    known = {name: KNOWN[name] for name in path_parameters if KNOWN.get(name)}
    drawn = st.just(path_parameters)
    if known:
        chosen = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})
        drawn = st.one_of(drawn, chosen.map(lambda values: {**path_parameters, **values}))
    # A path parameter is text in the URL, whatever was swapped in.
    nasty = drawn.flatmap(_with_a_nasty_value)
    return nasty.map(lambda parameters: {name: "" if v is None else str(v) for name, v in parameters.items()})


@schemathesis.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    if not query:
        return st.just(query)
    return _with_a_nasty_value(query)


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    path = context.operation.path if context.operation is not None else ""
    if path == "/mailroom/messages":
        return st.one_of(st.just(body), raw_messages)
    if path.startswith("/open311/v2/requests") and isinstance(body, dict) and OPEN311_KEY:
        with_key = st.sampled_from([body, {**body, "api_key": OPEN311_KEY}])
        # A form carries text: a swapped value goes as its text.
        return with_key.flatmap(_with_a_nasty_value).map(
            lambda form: {k: v if isinstance(v, str | bytes) or v is None else str(v) for k, v in form.items()}
        )
    if path == "/attachments" and isinstance(body, dict):
        return _with_a_nasty_value(body)  # a multipart form is UTF-8 on the wire, like a URL
    if isinstance(body, dict | list):
        return _with_a_nasty_value(body, on_the_wire=False)
    return st.just(body)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Each request from a caller of its own, as from many residents behind the council's gateway (the fleet
    trusts 127.0.0.1 as that proxy): per-client rate limits, tested on their own, stay out of the probes' way."""
    n = next(_callers)
    case.headers = {**(case.headers or {}), "X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}
