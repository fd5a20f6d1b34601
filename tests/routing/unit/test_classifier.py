"""Free-text classification, measured on the held-out part of the labelled set kept in the repo."""

import csv
from pathlib import Path

import pytest
import yaml

from onestop.contracts.events.common import NeedKind
from onestop.contracts.service_catalogue import service_catalogue
from onestop.routing.domain.classifier import KeywordClassifier, Keywords
from onestop.routing.settings import PACKAGED, RoutingSettings

LABELLED = Path(__file__).resolve().parents[3] / "services" / "routing" / "classification" / "labelled.csv"
KEYWORDS_TEXT = (PACKAGED / "classifier_keywords.yaml").read_text()
CLASSIFIER = KeywordClassifier.from_yaml(KEYWORDS_TEXT)
THRESHOLD = RoutingSettings().routing_triage_threshold


def rows(split: str) -> list[dict[str, str]]:
    with LABELLED.open() as file:
        return [row for row in csv.DictReader(file) if row["split"] == split]


def test_accuracy_on_the_held_out_set() -> None:
    """Routed automatically and right, or sent to triage; never routed confidently to the wrong service."""
    held_out = rows("held_out")
    right = wrong = triaged = 0
    for row in held_out:
        guess = CLASSIFIER.classify(row["text"])
        if guess.service_code is None or guess.confidence < THRESHOLD:
            triaged += 1
        elif guess.service_code == row["service_code"]:
            right += 1
        else:
            wrong += 1
    assert len(held_out) >= 20
    assert right / len(held_out) >= 0.8, (right, wrong, triaged)
    assert wrong / len(held_out) <= 0.05, (right, wrong, triaged)


def test_text_with_nothing_recognisable_goes_to_triage() -> None:
    assert CLASSIFIER.classify("Hello, I have a question").service_code is None


def test_training_and_held_out_texts_do_not_overlap() -> None:
    assert not {r["text"] for r in rows("train")} & {r["text"] for r in rows("held_out")}


def test_every_service_read_from_text_is_in_the_catalogue_with_a_kind_it_offers() -> None:
    Keywords.model_validate(yaml.safe_load(KEYWORDS_TEXT)).check_against(service_catalogue())


def test_a_kind_the_service_does_not_offer_is_refused() -> None:
    wrong = Keywords.model_validate({"version": "1", "services": {"524": {"kind": "application", "phrases": ["bin"]}}})
    with pytest.raises(ValueError, match="not one of its kinds"):
        wrong.check_against(service_catalogue())


@pytest.mark.parametrize(
    ("text", "code", "kind"),
    [
        ("Our bins were not emptied on collection day", "524", NeedKind.REPORT_PROBLEM),
        ("Recycling bin missed this week", "1130", NeedKind.REPORT_PROBLEM),
        ("Please send a replacement bin the lid is damaged", "526", NeedKind.SERVICE_REQUEST),
        ("I want to complain about the rude staff at reception", "353", NeedKind.COMPLAINT),
    ],
)
def test_the_text_says_what_kind_of_need_it_is(text: str, code: str, kind: NeedKind) -> None:
    guess = CLASSIFIER.classify(text)
    assert (guess.service_code, guess.kind) == (code, kind)
