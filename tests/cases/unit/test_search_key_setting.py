"""The search key is a secret: no default, and an empty one is refused, naming the setting."""

import pytest
from pydantic import ValidationError

from onestop.cases.settings import CasesSettings


def test_the_cases_service_needs_a_search_key_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASES_SEARCH_KEY", raising=False)
    with pytest.raises(ValidationError, match="cases_search_key"):
        CasesSettings(_env_file=None)
    monkeypatch.setenv("CASES_SEARCH_KEY", " ")
    with pytest.raises(ValidationError, match="CASES_SEARCH_KEY is empty"):
        CasesSettings(_env_file=None)
