"""What the caller is told once a contact is taken: each need's reference, so the customer can be given it
at once (cases derives the same reference from the contact and need).

No case id is given: a need that routing finds to be another report of a problem already in hand raises no
case of its own, so an id would name a case that never exists. The reference tracks it either way: public
tracking, Open311 and the cases API's `GET /cases?reference=` lead from it to the case it became or joined."""

from typing import Any

from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.contracts.service_catalogue import service_catalogue


def receipt(contact: ContactReceived) -> dict[str, Any]:
    catalogue = service_catalogue()
    needs = []
    for need in contact.needs:
        service = catalogue.service(need.service_code) if need.service_code else None
        needs.append(
            {
                "need_id": str(need.need_id),
                "reference": case_reference_for(case_id_for(contact.contact_id, need.need_id)),
                "service": service.name if service else None,
                "standard_working_days": service.standard_working_days if service else None,
            }
        )
    customer_id = contact.customer.customer_id if contact.customer else None
    return {
        "contact_id": str(contact.contact_id),
        "customer_id": str(customer_id) if customer_id else None,
        "needs": needs,
    }
