"""The survey a customer reaches from the link in their message: a plain HTML form (no login, no JavaScript)
in English or Welsh, and the answer it posts; an API client may post the same answer as JSON.

One answer per survey: a second one gets a page saying it was already answered, not an error.
"""

from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError

from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.surveys import SurveyAlreadyAnswered, SurveyNotFound, Surveys
from onestop.servicekit.inputs import CleanText
from onestop.servicekit.pages import language_of, page
from onestop.servicekit.ratelimit import rate_limit
from onestop.servicekit.unit_of_work import UnitsOfWork

router = APIRouter()

# A form is a few short fields and a comment; anything much larger is not a person filling it in.
MAX_FORM_BYTES = 32 * 1024
# Scores of 4 and 5 count as satisfied, as councils publish satisfaction ("satisfied or very satisfied").
SATISFIED_FROM = 4

WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Tell us how we did",
        "question": "Overall, how satisfied are you with how we dealt with your request?",
        "scores": {
            5: "Very satisfied",
            4: "Satisfied",
            3: "Neither satisfied nor dissatisfied",
            2: "Dissatisfied",
            1: "Very dissatisfied",
        },
        "comment": "Anything else you want to tell us (optional)",
        "comment_hint": "Do not include personal details such as your phone number or bank details.",
        "send": "Send feedback",
        "choose": "Choose how satisfied you are",
        "bad_comment": "Your comment must be shorter than 5,000 characters, in plain text",
        "error": "There is a problem",
        "thanks_title": "Thank you for your feedback",
        "thanks": "We read every answer and use them to improve our services.",
        "already_title": "You have already answered this survey",
        "already": "We have your answer already, thank you. Each survey can be answered once.",
        "unknown_title": "This survey link does not work",
        "unknown": "Check you copied the whole link from your message.",
    },
    "cy": {
        "title": "Dywedwch wrthym sut wnaethom ni",
        "question": "Yn gyffredinol, pa mor fodlon ydych chi â sut y gwnaethom ddelio â'ch cais?",
        "scores": {
            5: "Bodlon iawn",
            4: "Bodlon",
            3: "Ddim yn fodlon nac yn anfodlon",
            2: "Anfodlon",
            1: "Anfodlon iawn",
        },
        "comment": "Unrhyw beth arall yr hoffech ei ddweud wrthym (dewisol)",
        "comment_hint": "Peidiwch â chynnwys manylion personol fel eich rhif ffôn neu fanylion banc.",
        "send": "Anfon adborth",
        "choose": "Dewiswch pa mor fodlon ydych chi",
        "bad_comment": "Rhaid i'ch sylw fod yn fyrrach na 5,000 o nodau, mewn testun plaen",
        "error": "Mae problem",
        "thanks_title": "Diolch am eich adborth",
        "thanks": "Rydym yn darllen pob ateb ac yn eu defnyddio i wella ein gwasanaethau.",
        "already_title": "Rydych chi eisoes wedi ateb yr arolwg hwn",
        "already": "Mae eich ateb gennym eisoes, diolch. Gellir ateb pob arolwg unwaith.",
        "unknown_title": "Nid yw'r ddolen arolwg hon yn gweithio",
        "unknown": "Gwiriwch eich bod wedi copïo'r ddolen gyfan o'ch neges.",
    },
}


class Answer(BaseModel):
    satisfied: bool
    score: int = Field(ge=1, le=5)
    comment: CleanText = Field(default="", max_length=5000)


async def units_of_work(request: Request) -> UnitsOfWork[NotifyRepositories]:
    return request.app.state.units  # type: ignore[no-any-return]


async def surveys(request: Request) -> Surveys:
    return request.app.state.surveys  # type: ignore[no-any-return]


Units = Annotated[UnitsOfWork[NotifyRepositories], Depends(units_of_work)]
SurveyAnswers = Annotated[Surveys, Depends(surveys)]
Language = Annotated[str, Depends(language_of)]


def survey_form(token: str, language: str, error: str | None = None, comment: str = "") -> str:
    words = WORDS[language]
    action = f"{escape(token)}?lang={language}"  # relative to the page, wherever the public reach it
    problem = (
        f'<div role="alert"><h2>{escape(words["error"])}</h2><p id="score-error">{escape(error)}</p></div>'
        if error
        else ""
    )
    described_by = ' aria-describedby="score-error"' if error else ""
    radios = "\n".join(
        f'<label><input type="radio" name="score" value="{score}" required> {escape(label)}</label>'
        for score, label in words["scores"].items()
    )
    return f"""{problem}
<form method="post" action="{action}" novalidate>
<fieldset{described_by}>
<legend>{escape(words["question"])}</legend>
{radios}
</fieldset>
<label for="comment">{escape(words["comment"])}</label>
<p id="comment-hint">{escape(words["comment_hint"])}</p>
<textarea id="comment" name="comment" rows="5" maxlength="5000"
 aria-describedby="comment-hint">{escape(comment)}</textarea>
<p><button type="submit">{escape(words["send"])}</button></p>
</form>"""


def message(title: str, text: str, language: str, status_code: int = 200) -> HTMLResponse:
    return page(title, f"<p>{escape(text)}</p>", language, status_code)


@router.get(
    "/feedback/{token}",
    summary="The survey form behind the link in the message",
    response_class=HTMLResponse,
    dependencies=[Depends(rate_limit(per_minute=60))],
)
async def survey_page(token: str, units: Units, answers: SurveyAnswers, language: Language) -> HTMLResponse:
    words = WORDS[language]
    try:
        async with units.begin() as uow:
            await answers.check_open(uow, token)
    except SurveyAlreadyAnswered:
        return message(words["already_title"], words["already"], language)
    except SurveyNotFound:
        return message(words["unknown_title"], words["unknown"], language, status.HTTP_404_NOT_FOUND)
    return page(words["title"], survey_form(token, language), language)


@router.post(
    "/feedback/{token}",
    summary="A customer's answer to a survey: the form's fields, or JSON {satisfied, score, comment}",
    dependencies=[Depends(rate_limit(per_minute=30))],
    response_model=None,
)
async def answer_survey(
    token: str, request: Request, units: Units, answers: SurveyAnswers, language: Language
) -> HTMLResponse | dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the answer is too long")
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return await answer_from_form(token, body, units, answers, language)
    try:
        answer = Answer.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            exc.errors(include_url=False, include_input=False, include_context=False),
        ) from exc
    try:
        async with units.begin() as uow:
            received = await answers.record_answer(uow, token, answer.satisfied, answer.score, answer.comment)
    except SurveyNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this survey link is not valid or was already answered") from exc
    return {"survey_id": received.survey_id, "thank_you": "Thank you for telling us."}


async def answer_from_form(
    token: str, body: bytes, units: Units, answers: SurveyAnswers, language: str
) -> HTMLResponse:
    words = WORDS[language]
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    score_given = fields.get("score", [""])[0]
    comment = fields.get("comment", [""])[0]
    score = int(score_given) if score_given in {"1", "2", "3", "4", "5"} else None
    try:
        if score is None:
            raise ValueError("no score chosen")
        answer = Answer(satisfied=score >= SATISFIED_FROM, score=score, comment=comment)
    except (ValueError, ValidationError):
        problem = words["choose"] if score is None else words["bad_comment"]
        form = survey_form(token, language, error=problem, comment=comment if score is None else "")
        return page(words["title"], form, language, status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        async with units.begin() as uow:
            await answers.record_answer(uow, token, answer.satisfied, answer.score, answer.comment)
    except SurveyAlreadyAnswered:
        return message(words["already_title"], words["already"], language)
    except SurveyNotFound:
        return message(words["unknown_title"], words["unknown"], language, status.HTTP_404_NOT_FOUND)
    return message(words["thanks_title"], words["thanks"], language)
