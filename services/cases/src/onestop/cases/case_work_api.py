"""Case work for staff: the case in full, its notes, and search by reference, name, contact details, postcode,
address and words of the description. Fenced like every read of the cases API: a case outside the caller's
service areas answers 404, and a search never returns one."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from onestop.cases.adapters import case_search
from onestop.cases.adapters.case_file import CaseFiles
from onestop.cases.api import Commands, Reader, Views, case_summary
from onestop.cases.case_file import case_file, notes_of
from onestop.cases.domain.search_terms import BlindIndex, parse_query

router = APIRouter(tags=["case work"])
MAX_PAGE = 50  # pages beyond this are a sign to refine the search, not to read on


async def case_files(request: Request) -> CaseFiles:
    return CaseFiles(request.app.state.runtime.pool)


async def search_index(request: Request) -> BlindIndex:
    return request.app.state.search_index  # type: ignore[no-any-return]


Files = Annotated[CaseFiles, Depends(case_files)]
Index = Annotated[BlindIndex, Depends(search_index)]


@router.get("/cases/{case_id}/full", summary="The case in full: what, where, who, attachments, notes, SLA, history")
async def full_case(case_id: UUID, views: Views, files: Files, commands: Commands, caller: Reader) -> dict[str, Any]:
    summary = await case_summary(views, caller, case_id)
    return case_file(summary, await files.history(case_id), commands.clock())


@router.get("/cases/{case_id}/notes", summary="The case's notes, oldest first: author, time, text, public or not")
async def case_notes(case_id: UUID, views: Views, files: Files, caller: Reader) -> dict[str, Any]:
    await case_summary(views, caller, case_id)
    return {"case_id": case_id, "notes": notes_of(await files.history(case_id))}


@router.get("/search", summary="Find cases by reference, name, email, phone, postcode, address or description words")
async def search(
    request: Request,
    index: Index,
    files: Files,
    caller: Reader,
    q: Annotated[str, Query(min_length=1, max_length=200, description="What to look for")],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Newest first. Words must all match (a name, a street, words of the description); an email address, a
    phone number or a postcode is matched whole, however it is written; a reference whole or by its beginning.
    `total` is exact when `total_is_exact`, else a lower bound (refine the search)."""
    query = parse_query(q)
    if query.is_empty:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "q has no words to search for")
    async with request.app.state.runtime.pool.acquire() as connection:
        found = await case_search.search(
            connection,
            index,
            query,
            within_areas=caller.areas_limit,
            limit=page_size,
            offset=(page - 1) * page_size,
        )
    raised = await files.raised([case["case_id"] for case in found.cases])
    items = []
    for case in found.cases:
        first = raised.get(case["case_id"])
        customer = first.customer if first else None
        items.append(
            case
            | {
                "customer_name": customer.name if customer else None,
                "description": (first.description[:200] if first else "") or None,
            }
        )
    return {
        "q": q,
        "page": page,
        "page_size": page_size,
        "total": found.total,
        "total_is_exact": found.total_is_exact,
        "items": items,
    }
