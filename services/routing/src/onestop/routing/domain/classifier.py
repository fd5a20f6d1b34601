"""Free text to a service: keyword rules with a confidence, for contacts that came without a service.

Each service has weighted keywords (phrases count more than words). The confidence is the best score's
share of all scores, damped when little matched; below the threshold a person chooses (triage).
"""

import re
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ConfigDict, Field


class Keywords(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    services: dict[str, tuple[str, ...]] = Field(min_length=1)


@dataclass(frozen=True)
class Classification:
    service_code: str | None
    confidence: float


WORD = re.compile(r"[a-z0-9']+")


class KeywordClassifier:
    def __init__(self, keywords: Keywords) -> None:
        self.version = keywords.version
        self._phrases = {
            code: [tuple(WORD.findall(p.lower())) for p in phrases] for code, phrases in keywords.services.items()
        }

    @classmethod
    def from_yaml(cls, text: str) -> "KeywordClassifier":
        return cls(Keywords.model_validate(yaml.safe_load(text)))

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
        return Classification(best, round(share * evidence, 3))


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))
