"""Free text to a service and a kind of need: keyword rules with a confidence, for contacts that came
without a service (an email, a letter, a social media post, an "other" web form).

Each service has weighted keywords (phrases count more than words) and the kind of need a message about
it is (a missed bin is a report of a problem, whatever channel it came on). The confidence is the best
score's share of all scores, damped when little matched; below the threshold a person chooses (triage).
"""

import re
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ConfigDict, Field

from onestop.contracts.events.common import NeedKind
from onestop.contracts.service_catalogue import ServiceCatalogue


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceKeywords(_Strict):
    kind: NeedKind = Field(description="What a message about this service asks for")
    phrases: tuple[str, ...] = Field(min_length=1)


class Keywords(_Strict):
    version: str
    services: dict[str, ServiceKeywords] = Field(min_length=1)

    def check_against(self, catalogue: ServiceCatalogue) -> None:
        """Every service must be in the catalogue, with a kind of need the catalogue lists for it."""
        for code, keywords in self.services.items():
            service = catalogue.service(code)
            if service is None:
                raise ValueError(f"service code {code!r} is not in the catalogue")
            if keywords.kind not in service.kinds:
                raise ValueError(f"service {code}: {keywords.kind} is not one of its kinds {list(service.kinds)}")


@dataclass(frozen=True)
class Classification:
    service_code: str | None
    confidence: float
    kind: NeedKind | None = None


WORD = re.compile(r"[a-z0-9']+")


class KeywordClassifier:
    def __init__(self, keywords: Keywords) -> None:
        self.keywords = keywords
        self.version = keywords.version
        self._phrases = {
            code: [tuple(WORD.findall(p.lower())) for p in service.phrases]
            for code, service in keywords.services.items()
        }
        self._kinds = {code: service.kind for code, service in keywords.services.items()}

    @classmethod
    def from_yaml(cls, text: str) -> "KeywordClassifier":
        return cls(Keywords.model_validate(yaml.safe_load(text)))

    def kind_of(self, service_code: str) -> NeedKind | None:
        """The kind of need a message about the service is, if the keywords say."""
        return self._kinds.get(service_code)

    def classify(self, text: str) -> Classification:
        words = WORD.findall(text.lower())
        scores: dict[str, float] = {}
        for code, phrases in self._phrases.items():
            score = sum(len(phrase) ** 1.5 for phrase in phrases if _contains(words, phrase))
            if score:
                scores[code] = score
        if not scores:
            return Classification(None, 0.0)
        best = max(scores, key=lambda code: scores[code])
        share = scores[best] / sum(scores.values())
        evidence = min(1.0, scores[best] / 2.0)  # one strong phrase, or two words, is enough evidence
        return Classification(best, round(share * evidence, 3), self._kinds[best])


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))
