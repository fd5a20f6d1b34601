"""Cross-site request forgery: every form the desk posts carries a token bound to the person's session,
and a post without the session's token is refused before anything is done."""

import hmac
import secrets

from fastapi import Request
from starlette.datastructures import FormData

SESSION_KEY = "csrf_token"


class FormNotTrusted(Exception):
    """A post without the session's token: perhaps from another site, or from before the session began."""


def csrf_token(request: Request) -> str:
    """The session's token, made on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its token is the session's own; 403 otherwise."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get(SESSION_KEY)
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise FormNotTrusted("the form's security token is missing or out of date")
    return form
