"""Free-text classification, measured on the held-out part of the labelled set kept in the repo."""

import csv
from pathlib import Path

from onestop.routing.domain.classifier import KeywordClassifier
from onestop.routing.settings import PACKAGED, RoutingSettings

LABELLED = Path(__file__).resolve().parents[3] / "services" / "routing" / "classification" / "labelled.csv"
CLASSIFIER = KeywordClassifier.from_yaml((PACKAGED / "classifier_keywords.yaml").read_text())
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
