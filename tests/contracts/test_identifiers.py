"""Case ids and references derived from the contact and need."""

from uuid import uuid4

from onestop.contracts.identifiers import case_id_for, case_reference_for


def test_the_same_need_always_names_the_same_case() -> None:
    contact, need = uuid4(), uuid4()
    assert case_id_for(contact, need) == case_id_for(contact, need)
    assert case_id_for(contact, need) != case_id_for(contact, uuid4())


def test_references_are_short_unambiguous_and_stable() -> None:
    case_id = case_id_for(uuid4(), uuid4())
    reference = case_reference_for(case_id)
    assert reference == case_reference_for(case_id)
    assert len(reference) == 12
    assert reference.startswith("OS-")
    assert reference[7] == "-"
    assert not set(reference[3:].replace("-", "")) & set("ILOU")


def test_references_rarely_collide() -> None:
    references = {case_reference_for(uuid4()) for _ in range(20_000)}
    assert len(references) == 20_000
